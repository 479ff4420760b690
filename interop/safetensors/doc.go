// Package safetensors holds no code: its tests check shmtensor's bundles
// against an independent safetensors implementation,
// github.com/nlpodyssey/safetensors, both ways. It is a module of its own
// so that the library's go.mod names none of that implementation's
// dependencies.
package safetensors
