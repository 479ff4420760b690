package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// A channel is an NPY segment of shape (slots, *message shape) followed by
// a control area, page-aligned, that numpy does not read (it ignores bytes
// after the data). docs/formats.md ("Channels") is the contract; the
// offsets below are its table.
const (
	ChanMagic   = "SHMTCHAN"
	ChanVersion = 1

	ChanMaxSlots       = 1 << 24
	ChanMaxSubscribers = 1024

	// Offsets from the start of the control area.
	ChanOffHead     = 64
	ChanOffWake     = 72
	ChanOffClosed   = 76
	ChanOffEpoch    = 80
	ChanOffJoins    = 84
	ChanOffRelease  = 128
	ChanOffProdWait = 132
	ChanOffStamps   = 256

	// ChanEntrySize is a subscriber entry: one cache line, so subscribers
	// never write a line another subscriber writes.
	ChanEntrySize = 64

	// Offsets inside a subscriber entry.
	ChanEntState    = 0
	ChanEntPID      = 4
	ChanEntCursor   = 8
	ChanEntWaiting  = 16
	ChanEntFlags    = 20
	ChanEntReceived = 24
	ChanEntLost     = 32

	// ChanEntFlagNewest marks a subscriber that started from the newest
	// message.
	ChanEntFlagNewest = 1

	// The lock bytes, beyond any file's end (past LiveByte, 1<<62, which
	// every open segment holds shared).
	ChanProducerByte = 1<<62 + 64
	ChanJoinByte     = 1<<62 + 65
	ChanSubByte0     = 1<<62 + 128
)

// Policy is what a channel's producer does when the slot it needs still
// holds a message a subscriber has not read.
type Policy uint8

const (
	PolicyBlock  Policy = 0 // wait for the slowest live subscriber
	PolicyLatest Policy = 1 // overwrite; laggards skip and count the loss
)

// Channel is what a channel's control area fixes at create.
type Channel struct {
	Policy         Policy
	Slots          int   // S, a power of two
	MaxSubscribers int   // entries in the subscriber table
	MessageBytes   int64 // bytes of one message
	CtrlOff        int64 // where the control area starts
	CtrlLen        int64 // its length: the file ends at CtrlOff+CtrlLen
}

// ChanEntriesOff returns the offset of the subscriber table in a control
// area for slots slots.
func ChanEntriesOff(slots int) int64 {
	return ChanOffStamps + roundUp(8*int64(slots), 64)
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// NewChannel lays out a channel of the given slots and subscribers over
// the NPY header h of the whole ring (shape (slots, *message)).
func NewChannel(h Header, policy Policy, slots, maxSubs int) (Channel, error) {
	if slots < 1 || slots > ChanMaxSlots || bits.OnesCount(uint(slots)) != 1 {
		return Channel{}, fmt.Errorf("%w: %d slots: a channel needs a power of two from 1 to %d", errs.ErrShape, slots, ChanMaxSlots)
	}
	if maxSubs < 1 || maxSubs > ChanMaxSubscribers {
		return Channel{}, fmt.Errorf("%w: %d subscribers: a channel takes 1 to %d", errs.ErrShape, maxSubs, ChanMaxSubscribers)
	}
	if policy != PolicyBlock && policy != PolicyLatest {
		return Channel{}, fmt.Errorf("invalid channel policy %d", policy)
	}
	ctrlLen := roundUp(ChanEntriesOff(slots)+ChanEntrySize*int64(maxSubs), NPYDataOffset)
	end := h.DataOff + h.DataLen
	if end > math.MaxInt64-2*NPYDataOffset-ctrlLen {
		return Channel{}, fmt.Errorf("%w: a channel of %d bytes of slots does not fit in a file", errs.ErrShape, h.DataLen)
	}
	return Channel{
		Policy: policy, Slots: slots, MaxSubscribers: maxSubs,
		MessageBytes: h.DataLen / int64(slots),
		CtrlOff:      roundUp(end, NPYDataOffset), CtrlLen: ctrlLen,
	}, nil
}

// EncodeChannel writes the fixed fields of c into the start of a zeroed
// control area.
func EncodeChannel(ctrl []byte, c Channel, dataOff int64) {
	le := binary.LittleEndian
	copy(ctrl, ChanMagic)
	le.PutUint32(ctrl[8:], ChanVersion)
	le.PutUint32(ctrl[12:], uint32(c.Policy))
	le.PutUint32(ctrl[16:], uint32(c.Slots))
	le.PutUint32(ctrl[20:], uint32(c.MaxSubscribers))
	le.PutUint64(ctrl[24:], uint64(c.MessageBytes))
	le.PutUint64(ctrl[32:], uint64(dataOff))
	le.PutUint64(ctrl[40:], uint64(c.CtrlOff))
	le.PutUint64(ctrl[48:], uint64(c.CtrlLen))
}

// ChannelAt reports where the control area of a channel with NPY header h
// would start, and whether a file of size bytes has room for its fixed
// fields there: a file that does not is no channel.
func ChannelAt(h Header, size int64) (off int64, ok bool) {
	if h.Layout != NPY || len(h.Shape) == 0 || h.Fortran {
		return 0, false
	}
	off = roundUp(h.DataOff+h.DataLen, NPYDataOffset)
	return off, off > 0 && size-off >= 64
}

// IsChannel reports whether the 64 bytes at a control area's start carry
// the channel magic.
func IsChannel(fixed []byte) bool {
	return len(fixed) >= len(ChanMagic) && string(fixed[:len(ChanMagic)]) == ChanMagic
}

// ParseChannel validates the fixed fields of a control area (its first 64
// bytes) against the NPY header h of the ring and the file size, and
// returns them. Every field is checked: a control area that does not match
// the file is ErrNotTensor.
func ParseChannel(fixed []byte, h Header, size int64) (Channel, error) {
	bad := func(format string, a ...any) (Channel, error) {
		return Channel{}, fmt.Errorf("%w: channel control area: "+format, append([]any{errs.ErrNotTensor}, a...)...)
	}
	if len(fixed) < 64 || !IsChannel(fixed) {
		return bad("no magic")
	}
	le := binary.LittleEndian
	if v := le.Uint32(fixed[8:]); v != ChanVersion {
		return bad("version %d, this library reads %d", v, ChanVersion)
	}
	off, ok := ChannelAt(h, size)
	if !ok {
		return bad("the file has no room for it")
	}
	c := Channel{
		Policy:         Policy(le.Uint32(fixed[12:])),
		Slots:          int(min(le.Uint32(fixed[16:]), math.MaxInt32)),
		MaxSubscribers: int(min(le.Uint32(fixed[20:]), math.MaxInt32)),
		MessageBytes:   int64(min(le.Uint64(fixed[24:]), math.MaxInt64)),
		CtrlOff:        int64(min(le.Uint64(fixed[40:]), math.MaxInt64)),
		CtrlLen:        int64(min(le.Uint64(fixed[48:]), math.MaxInt64)),
	}
	want, err := NewChannel(h, c.Policy, c.Slots, c.MaxSubscribers)
	switch {
	case err != nil:
		return bad("%v", err)
	case h.Shape[0] != c.Slots:
		return bad("%d slots, but the array has %d rows", c.Slots, h.Shape[0])
	case c.MessageBytes != want.MessageBytes || c.MessageBytes*int64(c.Slots) != h.DataLen:
		return bad("%d-byte messages, but the array's rows are %d bytes", c.MessageBytes, want.MessageBytes)
	case le.Uint64(fixed[32:]) != uint64(h.DataOff):
		return bad("data offset %d, the header says %d", le.Uint64(fixed[32:]), h.DataOff)
	case c.CtrlOff != off:
		return bad("at %d, expected at %d", c.CtrlOff, off)
	case c.CtrlLen != want.CtrlLen:
		return bad("%d bytes long, expected %d", c.CtrlLen, want.CtrlLen)
	case size != off+c.CtrlLen:
		return bad("the file is %d bytes, the channel needs exactly %d", size, off+c.CtrlLen)
	}
	return c, nil
}
