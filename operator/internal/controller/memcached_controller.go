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
	"os"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	cachev1alpha1 "example.com/memcached-operator/api/v1alpha1"
)

const (
	// ImageEnv names the environment variable that overrides DefaultImage.
	ImageEnv = "MEMCACHED_IMAGE"
	// DefaultImage is the memcached image of the pods.
	DefaultImage = "docker.io/library/memcached:latest"
	// crLabel labels a pod with the name of the Memcached it belongs to.
	crLabel = "memcached_cr"
)

// MemcachedReconciler reconciles a Memcached object.
type MemcachedReconciler struct {
	client.Client
	Scheme *runtime.Scheme
}

// +kubebuilder:rbac:groups=cache.tutorial.example,resources=memcacheds,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=cache.tutorial.example,resources=memcacheds/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=cache.tutorial.example,resources=memcacheds/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=core,resources=pods,verbs=get;list;watch

// Reconcile makes the Memcached's Deployment exist with spec.size replicas and records
// the names of its pods in status.nodes.
func (r *MemcachedReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)

	memcached := &cachev1alpha1.Memcached{}
	if err := r.Get(ctx, req.NamespacedName, memcached); err != nil {
		// Deleted: its Deployment is garbage-collected through the owner reference.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	dep := &appsv1.Deployment{}
	err := r.Get(ctx, req.NamespacedName, dep)
	switch {
	case apierrors.IsNotFound(err):
		if dep, err = r.deploymentFor(memcached); err != nil {
			return ctrl.Result{}, err
		}
		log.Info("Creating a new Deployment", "Deployment.Namespace", dep.Namespace, "Deployment.Name", dep.Name)
		if err := r.Create(ctx, dep); err != nil {
			log.Error(err, "Failed to create new Deployment", "Deployment.Namespace", dep.Namespace, "Deployment.Name", dep.Name)
			return ctrl.Result{}, err
		}
	case err != nil:
		return ctrl.Result{}, err
	case dep.Spec.Replicas == nil || *dep.Spec.Replicas != memcached.Spec.Size:
		log.Info("Scaling Deployment", "Deployment.Namespace", dep.Namespace, "Deployment.Name", dep.Name,
			"from", ptr.Deref(dep.Spec.Replicas, 1), "to", memcached.Spec.Size)
		patch := client.MergeFrom(dep.DeepCopy())
		dep.Spec.Replicas = ptr.To(memcached.Spec.Size)
		if err := r.Patch(ctx, dep, patch); err != nil {
			return ctrl.Result{}, err
		}
	}

	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(memcached.Namespace), client.MatchingLabels(labelsFor(memcached.Name))); err != nil {
		return ctrl.Result{}, err
	}
	nodes := podNames(pods.Items)
	if !slices.Equal(nodes, memcached.Status.Nodes) {
		patch := client.MergeFrom(memcached.DeepCopy())
		memcached.Status.Nodes = nodes
		if err := r.Status().Patch(ctx, memcached, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// deploymentFor returns the Deployment of a Memcached, controlled by it.
func (r *MemcachedReconciler) deploymentFor(m *cachev1alpha1.Memcached) (*appsv1.Deployment, error) {
	labels := labelsFor(m.Name)
	image := DefaultImage
	if v := os.Getenv(ImageEnv); v != "" {
		image = v
	}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(m.Spec.Size),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:            "memcached",
						Image:           image,
						ImagePullPolicy: corev1.PullIfNotPresent,
						// The tutorial's "-m=64" reads as 0 MB in memcached 1.6, which then exits.
						Command: []string{"memcached", "-m", "64", "-o", "modern", "-v"},
						Ports:   []corev1.ContainerPort{{Name: "memcached", ContainerPort: 11211}},
					}},
				},
			},
		},
	}
	return dep, ctrl.SetControllerReference(m, dep, r.Scheme)
}

func labelsFor(name string) map[string]string {
	return map[string]string{"app": "memcached", crLabel: name}
}

// podNames returns the sorted names of pods, nil for none.
func podNames(pods []corev1.Pod) []string {
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// SetupWithManager sets up the controller with the Manager. Besides its Memcacheds it
// watches the Deployments they own, so that edits and deletions are put back, and their
// pods, so that status.nodes follows them.
func (r *MemcachedReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&cachev1alpha1.Memcached{}).
		Owns(&appsv1.Deployment{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToMemcached)).
		Named("memcached").
		Complete(r)
}

// podToMemcached maps a memcached pod to the Memcached named by its label.
func podToMemcached(_ context.Context, pod client.Object) []ctrl.Request {
	labels := pod.GetLabels()
	name, ok := labels[crLabel]
	if !ok || labels["app"] != "memcached" {
		return nil
	}
	return []ctrl.Request{{NamespacedName: types.NamespacedName{Namespace: pod.GetNamespace(), Name: name}}}
}
