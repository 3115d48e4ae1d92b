// Package cputime reads the CPU time the process has used, for benchmarks
// that report cpu-ns per operation next to the wall clock: on a shared
// machine the process's CPU time stays close to the work done, while ns/op
// also counts the time spent waiting for a core.
package cputime
