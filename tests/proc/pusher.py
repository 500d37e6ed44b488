"""A lead source that never gives up: pushes events over a DEALER socket,
keeps many in flight, and sends again whatever is not answered in time
(with the same source and event id, as the protocol asks)."""
import threading
import time

import zmq

from harness import pb, json_format


class Pusher(threading.Thread):
    def __init__(self, endpoint, leads, window=64, timeout=2.0, pace=0.0):
        super().__init__(daemon=True)
        self.endpoint = endpoint
        self.leads = leads                 # list of dicts (LeadEvent JSON)
        self.window = window
        self.timeout = timeout
        self.pace = pace                   # seconds between new sends
        self.replies = {}                  # index -> Reply
        self.resends = 0
        self.error = None

    def _send(self, sock, i):
        env = pb.Envelope()
        env.request_id = i + 1
        json_format.ParseDict(self.leads[i], env.lead)
        sock.send(env.SerializeToString())

    def _receive(self, sock, inflight):
        while sock.poll(20):
            env = pb.Envelope()
            env.ParseFromString(sock.recv())
            i = env.request_id - 1
            if i in inflight:
                del inflight[i]
                self.replies[i] = env.reply

    def _resend_late(self, sock, inflight):
        now = time.time()
        for i, sent in list(inflight.items()):
            if now - sent > self.timeout:
                self._send(sock, i)
                inflight[i] = now
                self.resends += 1

    def run(self):
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        inflight, nxt = {}, 0
        try:
            while nxt < len(self.leads) or inflight:
                while nxt < len(self.leads) and len(inflight) < self.window:
                    self._send(sock, nxt)
                    inflight[nxt] = time.time()
                    nxt += 1
                    if self.pace:
                        time.sleep(self.pace)
                self._receive(sock, inflight)
                self._resend_late(sock, inflight)
        except Exception as e:  # surfaced by the test
            self.error = e
        finally:
            sock.close()
