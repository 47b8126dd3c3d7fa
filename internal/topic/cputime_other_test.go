//go:build !unix

package topic_test

func cpuTime() int64 { return -1 }
