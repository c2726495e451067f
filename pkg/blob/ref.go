package blob

import (
	"context"

	digest "github.com/opencontainers/go-digest"
)

// Ref calls onCommit for blob d, which the store already holds, under d's
// lock: the way to add a reference to existing bytes (a Docker mount)
// without racing a Release that would free them. errs.NotFound if absent.
func (s *Store) Ref(ctx context.Context, d digest.Digest, onCommit func(Info) error) (Info, error) {
	key, err := keyOf(d)
	if err != nil {
		return Info{}, err
	}
	unlock := s.locks.Lock(key)
	defer unlock()
	size, err := s.d.Stat(ctx, key)
	if err != nil {
		return Info{}, err
	}
	info := Info{Digest: d, Size: size, Checksums: map[Algorithm]string{SHA256: d.Encoded()}}
	if onCommit != nil {
		if err := onCommit(info); err != nil {
			return Info{}, err
		}
	}
	return info, nil
}
