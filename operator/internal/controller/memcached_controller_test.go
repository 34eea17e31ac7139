/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"context"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	cachev1alpha1 "example.com/memcached-operator/api/v1alpha1"
)

var key = types.NamespacedName{Namespace: "default", Name: "memcached-sample"}

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := cachev1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// setup returns a reconciler over a fake cluster holding a Memcached of size and objs.
func setup(t *testing.T, size int32, objs ...client.Object) (*MemcachedReconciler, client.Client) {
	t.Helper()
	s := newScheme(t)
	m := &cachev1alpha1.Memcached{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
		Spec:       cachev1alpha1.MemcachedSpec{Size: size},
	}
	c := fake.NewClientBuilder().WithScheme(s).
		WithObjects(append(objs, m)...).
		WithStatusSubresource(&cachev1alpha1.Memcached{}).
		Build()
	return &MemcachedReconciler{Client: c, Scheme: s}, c
}

func reconcile(t *testing.T, r *MemcachedReconciler) {
	t.Helper()
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key})
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if res != (ctrl.Result{}) {
		t.Fatalf("reconcile result = %+v, want none", res)
	}
}

func getDeployment(t *testing.T, c client.Client) *appsv1.Deployment {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := c.Get(context.Background(), key, dep); err != nil {
		t.Fatalf("get deployment: %v", err)
	}
	return dep
}

func setSize(t *testing.T, c client.Client, size int32) {
	t.Helper()
	m := &cachev1alpha1.Memcached{}
	if err := c.Get(context.Background(), key, m); err != nil {
		t.Fatal(err)
	}
	m.Spec.Size = size
	if err := c.Update(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func TestCreatesDeployment(t *testing.T) {
	r, c := setup(t, 3)
	reconcile(t, r)

	dep := getDeployment(t, c)
	if got := ptr.Deref(dep.Spec.Replicas, -1); got != 3 {
		t.Errorf("replicas = %d, want 3", got)
	}
	owner := metav1.GetControllerOf(dep)
	if owner == nil || owner.Kind != "Memcached" || owner.Name != key.Name ||
		owner.APIVersion != cachev1alpha1.GroupVersion.String() {
		t.Errorf("controller owner reference = %+v, want the Memcached", owner)
	}
	want := map[string]string{"app": "memcached", "memcached_cr": key.Name}
	for k, v := range want {
		if dep.Spec.Selector.MatchLabels[k] != v || dep.Spec.Template.Labels[k] != v {
			t.Errorf("label %s: selector %q, template %q, want %q",
				k, dep.Spec.Selector.MatchLabels[k], dep.Spec.Template.Labels[k], v)
		}
	}
	ctr := dep.Spec.Template.Spec.Containers[0]
	if ctr.Image != DefaultImage {
		t.Errorf("image = %q, want %q", ctr.Image, DefaultImage)
	}
	if !slices.Equal(ctr.Command, []string{"memcached", "-m", "64", "-o", "modern", "-v"}) {
		t.Errorf("command = %q", ctr.Command)
	}
	if len(ctr.Ports) != 1 || ctr.Ports[0].ContainerPort != 11211 {
		t.Errorf("ports = %+v, want 11211", ctr.Ports)
	}

	// A second pass changes nothing.
	reconcile(t, r)
	if again := getDeployment(t, c); again.ResourceVersion != dep.ResourceVersion {
		t.Errorf("second reconcile updated the Deployment: %s -> %s", dep.ResourceVersion, again.ResourceVersion)
	}
	deps := &appsv1.DeploymentList{}
	if err := c.List(context.Background(), deps); err != nil || len(deps.Items) != 1 {
		t.Errorf("deployments = %d (%v), want 1", len(deps.Items), err)
	}
}

func TestImageFromEnv(t *testing.T) {
	t.Setenv(ImageEnv, "localhost:5000/memcached:1.6")
	r, c := setup(t, 1)
	reconcile(t, r)
	if got := getDeployment(t, c).Spec.Template.Spec.Containers[0].Image; got != "localhost:5000/memcached:1.6" {
		t.Errorf("image = %q, want the one from %s", got, ImageEnv)
	}
}

func TestScalesWithSize(t *testing.T) {
	r, c := setup(t, 1)
	reconcile(t, r)
	setSize(t, c, 4)
	reconcile(t, r)
	if got := ptr.Deref(getDeployment(t, c).Spec.Replicas, -1); got != 4 {
		t.Errorf("replicas = %d, want 4", got)
	}
	setSize(t, c, 0)
	reconcile(t, r)
	if got := ptr.Deref(getDeployment(t, c).Spec.Replicas, -1); got != 0 {
		t.Errorf("replicas = %d, want 0", got)
	}
}

func TestRestoresEditedReplicas(t *testing.T) {
	r, c := setup(t, 2)
	reconcile(t, r)
	dep := getDeployment(t, c)
	dep.Spec.Replicas = ptr.To[int32](5)
	if err := c.Update(context.Background(), dep); err != nil {
		t.Fatal(err)
	}
	reconcile(t, r)
	if got := ptr.Deref(getDeployment(t, c).Spec.Replicas, -1); got != 2 {
		t.Errorf("replicas = %d, want 2 put back", got)
	}
}

func TestRecreatesDeletedDeployment(t *testing.T) {
	r, c := setup(t, 2)
	reconcile(t, r)
	if err := c.Delete(context.Background(), getDeployment(t, c)); err != nil {
		t.Fatal(err)
	}
	reconcile(t, r)
	if got := ptr.Deref(getDeployment(t, c).Spec.Replicas, -1); got != 2 {
		t.Errorf("replicas = %d, want 2", got)
	}
}

func pod(name, namespace string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels}}
}

func TestStatusNodesListsPodsSorted(t *testing.T) {
	own := labelsFor(key.Name)
	r, c := setup(t, 3,
		pod("memcached-sample-c", key.Namespace, own),
		pod("memcached-sample-a", key.Namespace, own),
		pod("memcached-sample-b", key.Namespace, own),
		pod("other-cr", key.Namespace, labelsFor("other")),
		pod("unlabelled", key.Namespace, nil),
		pod("memcached-sample-elsewhere", "kube-system", own),
	)
	reconcile(t, r)

	nodes := func() []string {
		m := &cachev1alpha1.Memcached{}
		if err := c.Get(context.Background(), key, m); err != nil {
			t.Fatal(err)
		}
		return m.Status.Nodes
	}
	want := []string{"memcached-sample-a", "memcached-sample-b", "memcached-sample-c"}
	if got := nodes(); !slices.Equal(got, want) {
		t.Errorf("status.nodes = %q, want %q", got, want)
	}

	if err := c.Delete(context.Background(), pod("memcached-sample-b", key.Namespace, nil)); err != nil {
		t.Fatal(err)
	}
	reconcile(t, r)
	want = []string{"memcached-sample-a", "memcached-sample-c"}
	if got := nodes(); !slices.Equal(got, want) {
		t.Errorf("after a pod is gone, status.nodes = %q, want %q", got, want)
	}
}

func TestMissingMemcachedIsNoOp(t *testing.T) {
	r, c := setup(t, 1)
	res, err := r.Reconcile(context.Background(), ctrl.Request{
		NamespacedName: types.NamespacedName{Namespace: "default", Name: "absent"},
	})
	if err != nil || res != (ctrl.Result{}) {
		t.Fatalf("reconcile = %+v, %v; want no result, no error", res, err)
	}
	err = c.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: "absent"}, &appsv1.Deployment{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("get deployment: %v, want not found", err)
	}
}

func TestPodToMemcached(t *testing.T) {
	if got := podToMemcached(context.Background(), pod("p", "ns", labelsFor("mc"))); len(got) != 1 ||
		got[0].NamespacedName != (types.NamespacedName{Namespace: "ns", Name: "mc"}) {
		t.Errorf("memcached pod maps to %v", got)
	}
	if got := podToMemcached(context.Background(), pod("p", "ns", map[string]string{"app": "web"})); got != nil {
		t.Errorf("unrelated pod maps to %v", got)
	}
}
