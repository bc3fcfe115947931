#!/usr/bin/python3
"""A real SMTP server for the test suite (Debian's python3-aiosmtpd): every message it accepts
is written to DIR as NNNNNN.json {"mail_from", "rcpt_tos", "data"}, in arrival order.

  /usr/bin/python3 smtp_sink.py --port 2525 --dir /tmp/mail [--reject-rcpt bad@example.com]
      [--tls-cert cert.pem --tls-key key.pem] [--auth user:password]

Prints "smtp-sink ready <port>" once it listens. A recipient in --reject-rcpt gets a 550 at
RCPT TO, as a server does for an address that does not exist (a hard bounce). With a
certificate the server offers STARTTLS and requires it; with --auth it requires AUTH (after
STARTTLS) with that user and password. Each record says whether the session was encrypted
("tls") and who authenticated ("auth").
"""
import argparse
import itertools
import json
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


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
        login = getattr(session, "auth_data", None)
        record = {
            "tls": session.ssl is not None,
            "auth": login.login.decode() if getattr(login, "login", None) else None,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
        }
        tmp = os.path.join(self.directory, ".%06d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.directory, "%06d.json" % n))
        return "250 Message accepted for delivery"


class Authenticator:
    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == self.user
              and auth_data.password == self.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--reject-rcpt", action="append", default=[])
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)
        options.update(authenticator=Authenticator(user, password), auth_required=True,
                       auth_require_tls=bool(args.tls_cert))
    controller = Controller(Sink(args.dir, args.reject_rcpt), hostname="127.0.0.1",
                            port=args.port, decode_data=False, **options)
    controller.start()
    print("smtp-sink ready %d" % args.port, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main())
