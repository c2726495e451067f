//go:build race

package meta

// raceEnabled scales the largest tests down under the race detector, which
// makes bbolt some ten times slower.
const raceEnabled = true
