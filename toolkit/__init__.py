"""The suite's toolkit: what the tests, the pytest plugins (fixtures/) and the faults
(faults/) build on. Nothing here imports pytest, the plugins or the faults."""
