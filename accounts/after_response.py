"""Work that a request starts once its answer has gone, so that how long the work takes tells nobody anything.

A response made by RedirectThenWork hands its work over when the WSGI server closes it, after the last byte. The work
runs in one thread per process that takes it from a bounded queue: neither the closing of the connection nor the
worker's next request waits for it, and a flood of requests queues work instead of starting a thread each. When the
queue is full (or no thread can be started), the work runs in place, in the request's own worker: that visitor's
connection closes later, which is all a flood can learn. With settings.WORK_AFTER_RESPONSE_IN_THREAD off (the tests),
the work always runs in place, inside the test's transaction.
"""

import logging
import queue
import threading

from django.conf import settings
from django.db import connections
from django.http import HttpResponseRedirect

logger = logging.getLogger(__name__)

# Work waiting for the thread, per process, at most.
QUEUE_SIZE = 200
# The thread ends after this many idle seconds (a new one starts with the next work): a worker that is asked to stop
# then waits at most this long, plus the work in hand.
IDLE_SECONDS = 5

_waiting = queue.Queue(maxsize=QUEUE_SIZE)
_thread = None
_lock = threading.Lock()


class RedirectThenWork(HttpResponseRedirect):
    """A redirect that starts some work once it has been sent: the WSGI server calls close() after the last byte."""

    def __init__(self, url, work):
        super().__init__(url)
        self.work = work

    def close(self):
        try:
            work_after_response(self.work)
        finally:
            super().close()


def work_after_response(work):
    if not settings.WORK_AFTER_RESPONSE_IN_THREAD:
        work_run(work)
        return
    try:
        with _lock:
            _thread_ensure()
            _waiting.put_nowait(work)
    except (queue.Full, RuntimeError):  # RuntimeError: no thread could be started
        work_run(work)


def _thread_ensure():
    global _thread
    if _thread is None or not _thread.is_alive():
        _thread = threading.Thread(target=_drain, name="work-after-response")
        _thread.start()


def _drain():
    global _thread
    while True:
        try:
            work = _waiting.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            with _lock:
                # Work put while this thread waited is taken next round; otherwise it ends, and the next work starts
                # a new one (both under the lock that putting takes).
                if _waiting.empty():
                    _thread = None
                    return
            continue
        try:
            work_run(work)
        finally:
            connections.close_all()  # this thread's own, which no request will close
            _waiting.task_done()


def work_run(work):
    try:
        work()
    except Exception as error:  # the visitor has their answer; the error must not reach the server's log with data
        logger.error("Work after a response failed: %s", type(error).__name__)
