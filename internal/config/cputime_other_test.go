//go:build !unix

package config_test

func cpuTime() int64 { return -1 }
