"""toolkit/printed.py: a printed block against today's, whole, line by line."""

from tutorial_conformance.toolkit.evidence import Evidence
from tutorial_conformance.toolkit.printed import (
    AGE,
    POD_NAME,
    REDIS_TIME,
    compare,
    namespace_rule,
    paired,
)

TODAY_PODS = """NAME                                READY   STATUS    RESTARTS   AGE
redis                               1/1     Running   0          2m
redis-deployment-5d8f9c7b6d-x2x4z   1/1     Running   0          10s"""


def test_what_has_to_vary_is_normalised_by_named_rules_and_said():
    block = compare(81, 83, TODAY_PODS, [AGE, POD_NAME])
    assert block.same and block.lines == "81-83"
    assert "age (kubectl's AGE column): printed line(s) 82, 83; today line(s) 2, 3" in block.rules
    assert any(r.startswith("a generated pod name") for r in block.rules)


def test_what_still_differs_is_listed_by_line_with_its_reason():
    today = ['pod "redis" deleted from ns-1 namespace',
             'pod "redis-deployment-5d8f9c7b6d-x2x4z" deleted from ns-1 namespace']
    block = compare(89, 90, today, [POD_NAME, namespace_rule("ns-1")], why={89: "kubectl 1.35"})
    assert block.differing() == {89: today[0], 90: today[1]}
    assert [d.why for d in block.differences] == ["kubectl 1.35", "unexplained"]
    assert block.summary().startswith("the printed block, lines 89-90, differs from today's in "
                                      "2 line(s); first, line 89: printed: pod \"redis\" deleted")


def test_a_line_only_today_has_is_a_difference_too():
    block = compare(59, 59, ["NAME READY STATUS RESTARTS AGE", "redis 1/1 Running 0 5s"], [AGE])
    assert [(d.printed_line, d.printed, d.why) for d in block.differences] == [
        (None, None, "a line the tutorial lacks")]


def test_the_evidence_keeps_the_block_as_text_and_as_data_scrubbed():
    evidence = Evidence(secrets=["s3cret"])
    lines = ["1:S 02 Dec 2026 16:23:31.341 * Connecting to MASTER redis-sfs-0.redis-sfs:6379",
             "1:S 02 Dec 2026 16:23:32.287 # Unable to connect to MASTER: s3cret"]
    compare(176, 177, lines, [REDIS_TIME], evidence=evidence)
    (entry,) = evidence.entries
    assert entry.name == "the printed block, lines 176-177, against today"
    assert "s3cret" not in entry.text and "s3cret" not in str(evidence.blocks)
    (kept,) = evidence.blocks
    assert kept["lines"] == "176-177" and kept["same"] is False
    assert [d["printed_line"] for d in kept["differences"]] == [177]


def test_a_lost_header_pairs_with_nothing_and_each_row_with_its_own():
    today = ["NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)    AGE",
             "kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP    3m",
             "redis-sfs    ClusterIP   None         <none>        6379/TCP   2s"]
    block = compare(204, 205, today, [AGE])
    assert [(d.printed_line, d.today) for d in block.differences] == [
        (None, today[0]), (204, today[1])], block.render()


def test_a_line_only_the_tutorial_has_pairs_with_nothing():
    printed_two = ["1:S <time> * Connecting to MASTER redis-sfs-0.redis-sfs:6379",
                   "1:S <time> # Unable to connect to MASTER: x"]
    assert paired(printed_two, ["1:S <time> # Unable to connect to MASTER: y"]) == [
        (0, None), (1, 0)]
