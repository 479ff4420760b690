module github.com/shmtensor/shmtensor/interop/safetensors

go 1.26.0

require (
	github.com/nlpodyssey/safetensors v0.0.0-20250209183917-bfb01cc25f7c
	github.com/shmtensor/shmtensor v0.0.0
)

require (
	golang.org/x/sys v0.50.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)

replace github.com/shmtensor/shmtensor => ../..
