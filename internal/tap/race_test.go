//go:build race

package tap

// raceEnabled: the race detector allocates in channel and lock operations.
const raceEnabled = true
