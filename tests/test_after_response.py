"""Work after a response: one thread per process takes it from a bounded queue; what does not fit runs in place."""

import queue
import threading
import time

import pytest

from accounts import after_response


@pytest.fixture
def in_thread(settings, monkeypatch):
    """Production's way, with a small queue and a thread that soon ends when idle."""
    settings.WORK_AFTER_RESPONSE_IN_THREAD = True
    monkeypatch.setattr(after_response, "_waiting", queue.Queue(maxsize=3))
    monkeypatch.setattr(after_response, "IDLE_SECONDS", 0.2)
    yield
    after_response._waiting.join()


def workers():
    return [thread for thread in threading.enumerate() if thread.name == "work-after-response"]


def eventually(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "it did not happen"
        time.sleep(0.01)


def test_work_runs_in_one_thread_and_what_does_not_fit_runs_in_place(in_thread):
    release = threading.Event()
    done = []

    def blocking():
        release.wait(10)
        done.append(("blocking", threading.current_thread().name))

    def quick(number):
        return lambda: done.append((number, threading.current_thread().name))

    after_response.work_after_response(blocking)
    eventually(lambda: after_response._waiting.empty())  # the thread has taken it and waits
    for number in range(3):
        after_response.work_after_response(quick(number))
    after_response.work_after_response(quick("overflow"))

    # The queue was full: the last ran at once, in the caller's own thread.
    assert done == [("overflow", threading.current_thread().name)]
    assert len(workers()) == 1

    release.set()
    after_response._waiting.join()
    assert sorted(str(number) for number, _thread in done) == ["0", "1", "2", "blocking", "overflow"]
    assert {thread for number, thread in done if number != "overflow"} == {"work-after-response"}


def test_the_thread_ends_when_idle_and_another_starts_with_new_work(in_thread):
    done = []
    after_response.work_after_response(lambda: done.append(1))
    eventually(lambda: done == [1] and not workers())

    after_response.work_after_response(lambda: done.append(2))
    eventually(lambda: done == [1, 2])


def test_failing_work_is_logged_by_kind_only_and_the_thread_goes_on(in_thread, caplog):
    done = []

    def failing():
        raise ValueError("something about kari@example.org")

    after_response.work_after_response(failing)
    after_response.work_after_response(lambda: done.append("next"))
    eventually(lambda: done == ["next"])

    assert "Work after a response failed: ValueError" in caplog.text
    assert "kari" not in caplog.text


def test_work_runs_in_place_when_no_thread_can_start(in_thread, monkeypatch):
    eventually(lambda: not workers())  # one from an earlier test has ended

    def no_thread(*args, **kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(after_response.threading.Thread, "start", no_thread)
    done = []

    after_response.work_after_response(lambda: done.append(threading.current_thread().name))

    assert done == [threading.current_thread().name]
