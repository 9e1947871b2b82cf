"""The demo: Dovecot with a user demo/demo and postern in front of it on
127.0.0.1:1143 for IMAP (or the port given) and the next port for POP3,
on the embedded map lookup."""
import signal
import sys
import time

import lib


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 1143
    tmp = lib.TempDir()
    dovecot = lib.Dovecot(tmp, users={"demo": "demo"}).start()
    postern = lib.Postern(tmp, map_lines=["* 127.0.0.1:%d" % dovecot.imap_port],
                          port=port).start()
    pop3 = lib.Postern(tmp, protocol="pop3", port=port + 1,
                       map_lines=["* 127.0.0.1:%d" % dovecot.pop3_port]).start()
    print("""
postern is listening on 127.0.0.1:%(port)d (systemd-socket-activate, one
process per connection), in front of Dovecot on 127.0.0.1:%(backend)d.
User "demo", password "demo". Try:

  curl imap://demo:demo@127.0.0.1:%(port)d/
  curl 'imap://demo:demo@127.0.0.1:%(port)d/INBOX;UID=1'
  python3 -c "import imaplib; m = imaplib.IMAP4('127.0.0.1', %(port)d); print(m.login('demo', 'demo'))"

POP3 on 127.0.0.1:%(pop3)d, in front of Dovecot's POP3:

  curl pop3://demo:demo@127.0.0.1:%(pop3)d/
  curl pop3://demo:demo@127.0.0.1:%(pop3)d/1

postern's logs: %(log)s %(pop3log)s
Press Ctrl-C to stop.
""" % {"port": port, "backend": dovecot.imap_port, "log": postern.log,
       "pop3": port + 1, "pop3log": pop3.log}, flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    try:
        while not stop:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        postern.stop()
        pop3.stop()
        dovecot.stop()
        tmp.cleanup()
        print("stopped.")


if __name__ == "__main__":
    main()
