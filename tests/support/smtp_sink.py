"""A real SMTP server for the tests: accepts every message on 127.0.0.1:PORT and writes the
bytes it received, unchanged, as one .eml file per message into DIR. Once listening, it prints
"ready PORT": with PORT 0 the system picks a free port, so two suites never race for one.

usage: python3 smtp_sink.py PORT DIR [DATA_DELAY_MS]

With DATA_DELAY_MS, each message is acknowledged only after that long (a slow server).
A recipient whose address starts with "reject" is refused for good (550), as a real server
refuses a mailbox that does not exist.
"""
import asyncio
import os
import sys
import time
import uuid

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, delay):
        self.directory = directory
        self.delay = delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("reject"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        tmp = os.path.join(self.directory, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(f"X-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.directory, name + ".eml"))
        return "250 Message accepted"


async def serve(port, directory, delay):
    loop = asyncio.get_running_loop()
    sink = Sink(directory, delay)
    server = await loop.create_server(lambda: SMTP(sink), host="127.0.0.1", port=port)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    delay = int(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0
    os.makedirs(directory, exist_ok=True)
    asyncio.run(serve(port, directory, delay))


if __name__ == "__main__":
    main()
