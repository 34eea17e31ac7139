from tutorial_conformance.toolkit.evidence import Evidence, scrub


def test_credentials_are_redacted():
    text = (
        "client-key-data: LS0tLS1CRUdJTi\n"
        "token: abc.def.ghi\n"
        "Authorization: Bearer eyJhbGciOi\n"
        '{"password": "hunter2"}'
    )
    out = scrub(text)
    for secret in ("LS0tLS1CRUdJTi", "abc.def.ghi", "eyJhbGciOi", "hunter2"):
        assert secret not in out
    assert out.count("<redacted>") == 4


def test_ordinary_output_is_kept():
    line = "pod/redis created\nredis   1/1     Running   0          5s"
    assert scrub(line) == line


def test_entries_render_in_order():
    evidence = Evidence()
    evidence.add("$ kubectl get pods", "redis 1/1 Running")
    evidence.add("events", "Pulled")
    assert evidence.render() == "--- $ kubectl get pods\nredis 1/1 Running\n\n--- events\nPulled"
