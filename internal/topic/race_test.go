//go:build race

package topic_test

// raceEnabled: the test binary is built with -race (ten times slower).
const raceEnabled = true
