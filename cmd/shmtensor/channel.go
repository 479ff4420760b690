package main

import (
	"context"
	"fmt"
	"strings"
	"unsafe"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/nprint"
)

// The channel commands (create-channel, send, tail) reach the package's
// generic channel API through chanType, one per element type, which hands
// messages out as bytes: the commands work on any dtype a channel can
// carry without a type parameter of their own.

// chanType creates, feeds and subscribes to channels of one element type.
type chanType interface {
	create(name string, shape []int, opts []shmtensor.Option) (chanProducer, error)
	attach(name string) (chanProducer, error)
	subscribe(name string, opts []shmtensor.Option) (chanSubscriber, error)
}

// chanProducer is a Producer[T] seen as bytes.
type chanProducer interface {
	// Loan returns the next slot as bytes, writable until Send.
	Loan(ctx context.Context) ([]byte, error)
	Send() error
	Sent() uint64
	Name() string
	Close() error
}

// chanSubscriber is a Subscriber[T] seen as bytes.
type chanSubscriber interface {
	// Next returns the next message: its sequence number, how many
	// messages were lost just before it, and its bytes (read-only, valid
	// until Release, the next Next or Close).
	Next(ctx context.Context) (seq, lost uint64, data []byte, err error)
	Release() error
	Received() uint64
	Lost() uint64
	Close() error
}

// chanTypeOf returns the chanType of dt, or false for bool and float16,
// which have no Go element type: channels cannot carry them.
func chanTypeOf(dt shmtensor.DType) (chanType, bool) {
	switch dt {
	case shmtensor.Int8:
		return typed[int8]{}, true
	case shmtensor.Int16:
		return typed[int16]{}, true
	case shmtensor.Int32:
		return typed[int32]{}, true
	case shmtensor.Int64:
		return typed[int64]{}, true
	case shmtensor.Uint8:
		return typed[uint8]{}, true
	case shmtensor.Uint16:
		return typed[uint16]{}, true
	case shmtensor.Uint32:
		return typed[uint32]{}, true
	case shmtensor.Uint64:
		return typed[uint64]{}, true
	case shmtensor.Float32:
		return typed[float32]{}, true
	case shmtensor.Float64:
		return typed[float64]{}, true
	case shmtensor.Complex64:
		return typed[complex64]{}, true
	case shmtensor.Complex128:
		return typed[complex128]{}, true
	}
	return nil, false
}

// channelDTypes lists the dtypes a channel can carry, for messages.
func channelDTypes() string {
	var names []string
	for _, n := range dtypeNames {
		if dt, err := shmtensor.ParseDType(n); err == nil {
			if _, ok := chanTypeOf(dt); ok {
				names = append(names, n)
			}
		}
	}
	return strings.Join(names, " ")
}

type typed[T shmtensor.Number] struct{}

func (typed[T]) create(name string, shape []int, opts []shmtensor.Option) (chanProducer, error) {
	p, err := shmtensor.CreateChannel[T](name, shape, opts...)
	if err != nil {
		return nil, err
	}
	return producer[T]{p}, nil
}

func (typed[T]) attach(name string) (chanProducer, error) {
	p, err := shmtensor.AttachProducer[T](name)
	if err != nil {
		return nil, err
	}
	return producer[T]{p}, nil
}

func (typed[T]) subscribe(name string, opts []shmtensor.Option) (chanSubscriber, error) {
	s, err := shmtensor.Subscribe[T](name, opts...)
	if err != nil {
		return nil, err
	}
	return subscriber[T]{s}, nil
}

type producer[T shmtensor.Number] struct{ *shmtensor.Producer[T] }

func (p producer[T]) Loan(ctx context.Context) ([]byte, error) {
	t, err := p.Producer.Loan(ctx)
	if err != nil {
		return nil, err
	}
	return asBytes(t.Data()), nil
}

type subscriber[T shmtensor.Number] struct{ *shmtensor.Subscriber[T] }

func (s subscriber[T]) Next(ctx context.Context) (seq, lost uint64, data []byte, err error) {
	m, err := s.Subscriber.Next(ctx)
	if err != nil {
		return 0, 0, nil, err
	}
	return m.Seq, m.Lost, asBytes(m.Tensor.Data()), nil
}

// asBytes returns the memory of a slot's elements as bytes. A slot is one
// contiguous message, so Data never returns nil here.
func asBytes[T shmtensor.Number](d []T) []byte {
	if len(d) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), len(d)*int(unsafe.Sizeof(d[0])))
}

// chanMeta is what the channel commands need to know of a channel.
type chanMeta struct {
	Name         string // with its scheme
	DType        shmtensor.DType
	Shape        []int // of one message
	MessageBytes int64
}

// statChannel describes the channel name from its header, without mapping
// it, and returns its chanType. A name that holds a plain tensor segment is
// refused as such, and so is a channel of an element type Go cannot hold.
func statChannel(name string) (chanMeta, chanType, error) {
	in, err := shmtensor.Stat(name)
	if err != nil {
		return chanMeta{}, nil, err
	}
	if in.Kind != shmtensor.KindChannel {
		return chanMeta{}, nil, errNotChannel(in)
	}
	ct, ok := chanTypeOf(in.DType)
	if !ok {
		return chanMeta{}, nil, fmt.Errorf("%s carries %s, which this program cannot read (a channel of %s has no Go element type)",
			escapeName(in.Name), in.DType, in.DType)
	}
	m := chanMeta{Name: in.Name, DType: in.DType, Shape: in.Shape[1:], MessageBytes: int64(in.DType.Size())}
	for _, d := range m.Shape {
		m.MessageBytes *= int64(d)
	}
	return m, ct, nil
}

// errNotChannel says that in is a tensor segment, not a channel.
func errNotChannel(in shmtensor.Info) error {
	return fmt.Errorf("%s is a tensor segment (%s %s), not a channel: create-channel makes channels, and \"shmtensor show\" prints a segment",
		escapeName(in.Name), in.DType, shmtensor.FormatShape(in.Shape))
}

// parsePolicy parses --policy; its errors are usage errors.
func parsePolicy(s string) (shmtensor.Policy, error) {
	switch s {
	case "block":
		return shmtensor.Block, nil
	case "latest":
		return shmtensor.Latest, nil
	}
	return 0, usagef("unknown --policy %q (want block or latest)", s)
}

// formatMessage prints a message of dt and shape from its bytes as numpy
// prints an array, summarised above threshold elements (0: never).
func formatMessage(dt shmtensor.DType, shape []int, data []byte, threshold int) string {
	strides := make([]int, len(shape))
	s := dt.Size()
	for i := len(shape) - 1; i >= 0; i-- {
		strides[i] = s
		s *= shape[i]
	}
	o := nprint.Default()
	o.Threshold = threshold
	return nprint.Format(nprint.Bytes(dt.Descr()[1], dt.Size(), shape, strides, data), o)
}
