# Send IPv6 router advertisements with prefixes for SLAAC, as a router would, so that the kernel
# on the other end of the link makes (or deprecates) its addresses itself, in the address
# generation mode under test. Run inside the test's network namespace:
#   python3 ra.py DEVICE PREFIX/LEN[,VALID,PREFERRED] ...     (lifetimes default to 3600,1800)
#   python3 ra.py -      one advertisement per line of standard input, "DEVICE SPEC ...", each
#                        answered on standard output with "ok" or "error: WHY" (one Python start
#                        for all of a test file's advertisements)
# A preferred lifetime of 0 deprecates the prefix's addresses, as a router does when it
# renumbers. The source is DEVICE's link-local address (the kernel picks it), hop limit 255 as
# RFC 4861 requires; the router lifetime is 0, so the receiver makes no default route.
import socket
import struct
import sys


def advertise(device, specs):
    # ICMPv6 type 134, code 0, checksum (the kernel fills it in), hop limit 64, no M/O flags,
    # router lifetime 0, reachable time 0, retransmission timer 0.
    packet = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0)
    for spec in specs:
        prefix, *lifetimes = spec.split(",")
        valid, preferred = (int(lifetimes[0]), int(lifetimes[1])) if lifetimes else (3600, 1800)
        address, length = prefix.split("/")
        # Prefix information: type 3, length 4 (x 8 bytes), on-link and autonomous (L|A).
        packet += struct.pack("!BBBBIII", 3, 4, int(length), 0xC0, valid, preferred, 0)
        packet += socket.inet_pton(socket.AF_INET6, address)

    index = socket.if_nametoindex(device)
    with socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6) as s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        s.sendto(packet, ("ff02::1", 0, 0, index))


if sys.argv[1:] == ["-"]:
    for line in sys.stdin:
        device, *specs = line.split()
        try:
            advertise(device, specs)
            answer = "ok"
        except (OSError, ValueError) as e:
            answer = f"error: {e}"
        print(answer, flush=True)
else:
    advertise(sys.argv[1], sys.argv[2:])
