#!/usr/bin/python3
"""A real SMTP server for the test suite (Debian's python3-aiosmtpd): every message it accepts
is written to DIR as NNNNNN.json {"mail_from", "rcpt_tos", "data"}, in arrival order.

  /usr/bin/python3 smtp_sink.py --port 2525 --dir /tmp/mail [--reject-rcpt bad@example.com]

Prints "smtp-sink ready <port>" once it listens. A recipient in --reject-rcpt gets a 550 at
RCPT TO, as a server does for an address that does not exist (a hard bounce).
"""
import argparse
import itertools
import json
import os
import signal
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, reject):
        self.directory = directory
        self.reject = set(a.lower() for a in reject)
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
        }
        tmp = os.path.join(self.directory, ".%06d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.directory, "%06d.json" % n))
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--reject-rcpt", action="append", default=[])
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Sink(args.dir, args.reject_rcpt), hostname="127.0.0.1",
                            port=args.port, decode_data=False)
    controller.start()
    print("smtp-sink ready %d" % args.port, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main())
