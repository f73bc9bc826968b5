# Send one IPv6 router advertisement with a prefix for SLAAC, as a router would, so that the
# kernel on the other end of the link makes its addresses itself (in the address generation
# mode under test). Run inside the test's network namespace:
#   python3 ra.py DEVICE PREFIX/64 [VALID PREFERRED]
# The source is DEVICE's link-local address (the kernel picks it), hop limit 255 as RFC 4861
# requires; the router lifetime is 0, so the receiver makes addresses but no default route.
import socket
import struct
import sys

device, prefix = sys.argv[1], sys.argv[2]
valid = int(sys.argv[3]) if len(sys.argv) > 3 else 3600
preferred = int(sys.argv[4]) if len(sys.argv) > 4 else 1800
address, length = prefix.split("/")

# ICMPv6 type 134, code 0, checksum (the kernel fills it in), hop limit 64, no M/O flags,
# router lifetime 0, reachable time 0, retransmission timer 0.
header = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0)
# Prefix information: type 3, length 4 (x 8 bytes), on-link and autonomous (L|A).
option = struct.pack("!BBBBIII", 3, 4, int(length), 0xC0, valid, preferred, 0)
option += socket.inet_pton(socket.AF_INET6, address)

index = socket.if_nametoindex(device)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
s.sendto(header + option, ("ff02::1", 0, 0, index))
