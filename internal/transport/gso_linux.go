package transport

import (
	"encoding/binary"
	"errors"
	"syscall"
	"unsafe"
)

// udpSegment is the UDP_SEGMENT socket option (linux/udp.h, Linux 4.18).
const udpSegment = 103

// gsoSupported: this system can send UDP segmentation offload writes.
const gsoSupported = true

// writeGSO sends ps, all len(ps[0]) bytes but the last (which may be
// shorter), as one write the kernel cuts into len(ps) datagrams
// (UDP_SEGMENT), on a connected socket: one pass down the stack for the
// lot instead of one per datagram. buf is reused to join them.
func (c *udpConn) writeGSO(ps [][]byte, buf *[]byte) error {
	b := (*buf)[:0]
	for _, p := range ps {
		b = append(b, p...)
	}
	*buf = b
	var oob [syscall.SizeofCmsghdr + 8]byte
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level = syscall.IPPROTO_UDP
	h.Type = udpSegment
	h.SetLen(syscall.CmsgLen(2))
	binary.NativeEndian.PutUint16(oob[syscall.SizeofCmsghdr:], uint16(len(ps[0])))
	_, _, err := c.conn.WriteMsgUDP(b, oob[:syscall.CmsgSpace(2)], nil)
	return err
}

// gsoRefused reports an error that says this socket, path or kernel does
// not do UDP segmentation offload (or not at this size), rather than a
// failure of the datagrams.
func gsoRefused(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENOPROTOOPT) ||
		errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EMSGSIZE)
}
