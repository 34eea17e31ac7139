"""toolkit.deployments.rolled_out: the one rollout predicate of the suite and the faults."""

from kubernetes import client

from tutorial_conformance.toolkit.deployments import rolled_out


def deployment(generation: int, observed: int, ready: int, available: int) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name="d", generation=generation),
        spec=client.V1DeploymentSpec(replicas=2, selector=client.V1LabelSelector(),
                                     template=client.V1PodTemplateSpec()),
        status=client.V1DeploymentStatus(observed_generation=observed, replicas=2,
                                         updated_replicas=2, ready_replicas=ready,
                                         available_replicas=available))


def test_a_deployment_is_rolled_out_once_its_generation_is_seen_and_all_are_available():
    assert rolled_out(deployment(3, 3, 2, 2))[0]
    assert not rolled_out(deployment(3, 2, 2, 2))[0]  # the new template not yet seen
    done, seen = rolled_out(deployment(3, 3, 1, 1))
    assert not done and seen == "updated=2 total=2 ready=1 want=2"


def daemon_set(ready: int) -> client.V1DaemonSet:
    status = client.V1DaemonSetStatus(current_number_scheduled=3, desired_number_scheduled=3,
                                      number_misscheduled=0, number_ready=ready,
                                      updated_number_scheduled=3, number_available=ready,
                                      observed_generation=1)
    spec = client.V1DaemonSetSpec(selector=client.V1LabelSelector(),
                                  template=client.V1PodTemplateSpec())
    return client.V1DaemonSet(metadata=client.V1ObjectMeta(name="ds", generation=1), spec=spec,
                              status=status)


def test_a_daemon_set_is_rolled_out_when_every_scheduled_pod_is_updated_and_ready():
    assert rolled_out(daemon_set(3))[0]
    assert rolled_out(daemon_set(2)) == (False, "desired=3 updated=3 ready=2")
