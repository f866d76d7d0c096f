package fsperm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWalkVisitsEveryComponentInOrder(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "a", "b")
	require.NoError(t, os.MkdirAll(sock, 0o750))
	var seen []string
	var lasts []bool
	p, _, err := Walk(sock, func(p string, _ Node, last bool) bool {
		seen = append(seen, p)
		lasts = append(lasts, last)
		return true
	})
	require.NoError(t, err)
	assert.Empty(t, p, "nothing refused")
	assert.Equal(t, "/", seen[0])
	assert.Equal(t, sock, seen[len(seen)-1])
	assert.Equal(t, filepath.Join(dir, "a"), seen[len(seen)-2])
	for i, l := range lasts {
		assert.Equal(t, i == len(lasts)-1, l)
	}
}

func TestWalkStopsAtFirstRefusal(t *testing.T) {
	dir := t.TempDir()
	inner := filepath.Join(dir, "inner")
	require.NoError(t, os.Mkdir(inner, 0o700))
	require.NoError(t, os.Chmod(inner, 0o701)) // a mode nothing else on the way has
	p, n, err := Walk(filepath.Join(inner, "x"), func(p string, n Node, _ bool) bool { return n.Mode.Perm() != 0o701 })
	require.NoError(t, err, "refused before reaching the missing leaf")
	assert.Equal(t, inner, p)
	assert.EqualValues(t, os.ModeDir|0o701, n.Mode)
	assert.Equal(t, os.Getuid(), n.UID)
}

func TestWalkMissingPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	p, _, err := Walk(missing, func(string, Node, bool) bool { return true })
	assert.Equal(t, missing, p)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestWalkRoot(t *testing.T) {
	var seen []string
	_, _, err := Walk("/", func(p string, _ Node, last bool) bool {
		seen = append(seen, p)
		assert.True(t, last)
		return true
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"/"}, seen)
}

func TestNodeString(t *testing.T) {
	assert.Equal(t, "root:root 0750", Node{UID: 0, GID: 0, Mode: os.ModeDir | 0o750}.String())
	assert.Equal(t, "uid 4242424:4242424 0600", Node{UID: 4242424, GID: 4242424, Mode: 0o600}.String())
}
