package shmtensor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/shmtensor/shmtensor"
)

// A producer streams frames to a subscriber through a channel. In a real
// program they are two processes (or a Go and a Python one): the producer
// runs CreateChannel once, each subscriber Subscribe with the same name.
// Each message is written in place in its slot (Loan, fill, Send) and read
// in place (Next), never copied.
func Example_channel() {
	name := fmt.Sprintf("example-frames-%d", os.Getpid())
	ctx := context.Background()

	// Producer: 4 slots of 2×3 float64 frames; Block: nothing is lost.
	prod, err := shmtensor.CreateChannel[float64](name, []int{2, 3}, shmtensor.Slots(4))
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)

	// Subscriber (another process, usually).
	sub, err := shmtensor.Subscribe[float64](name)
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()

	for i := range 3 {
		frame, err := prod.Loan(ctx) // the next free slot, writable
		if err != nil {
			log.Fatal(err)
		}
		frame.Fill(float64(i))
		frame.Set(float64(10*i), 1, 2)
		if err := prod.Send(); err != nil {
			log.Fatal(err)
		}
	}
	prod.Close() // end of stream: the subscriber drains, then gets io.EOF

	for {
		msg, err := sub.Next(ctx) // a read-only view of the slot
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(msg.Seq, msg.Tensor.At(0, 0), msg.Tensor.At(1, 2))
	}
	// Output:
	// 0 0 0
	// 1 1 10
	// 2 2 20
}
