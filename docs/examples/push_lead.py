#!/usr/bin/python3
"""Push one lead into keyuan from Python and print the reply.

Needs Debian's python3-zmq and python3-protobuf (so run it with the system
/usr/bin/python3) and protoc to generate the classes:
    /usr/bin/python3 push_lead.py [ENDPOINT]   (default tcp://127.0.0.1:7101)
"""
import os
import subprocess
import sys
import tempfile

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "proto")


def load_classes():
    out = tempfile.mkdtemp()
    files = [os.path.join("keyuan", "v1", f)
             for f in os.listdir(os.path.join(PROTO, "keyuan", "v1"))]
    subprocess.run(["protoc", "-I", PROTO, "-I", "/usr/include",
                    "--python_out", out] + files, check=True)
    sys.path.insert(0, out)
    from keyuan.v1 import envelope_pb2
    return envelope_pb2


def main():
    pb = load_classes()
    endpoint = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:7101"

    env = pb.Envelope()
    env.request_id = 1
    lead = env.lead
    lead.source = "python-example"
    lead.source_event_id = "example-0001"
    lead.name = "示例客户"
    lead.contacts.mobile = "+86 138 0013 8000"
    lead.needs.region_codes.append("110105")
    lead.needs.budget_max_wan = 500

    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    sock.send(env.SerializeToString())
    if not sock.poll(5000):
        sys.exit("no reply from " + endpoint)
    reply = pb.Envelope()
    reply.ParseFromString(sock.recv())
    print(reply.reply)
    # ACCEPTED (1) or DUPLICATE (2, run a second time): the lead is stored.
    sys.exit(0 if reply.reply.status in (1, 2) else 1)


if __name__ == "__main__":
    main()
