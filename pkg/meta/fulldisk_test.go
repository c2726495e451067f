package meta

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// A metadata write the disk has no room for is InsufficientStorage (507),
// and the database goes on serving what it holds.
func TestFullDiskIsInsufficientStorage(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	db, err := Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first, _ := putAsset(t, db, "r", "first", dg("first"), nil)
	big := map[string]string{"pad": strings.Repeat("x", 64<<10)}
	for i := 0; ; i++ {
		_, _, err = db.PutAsset(PutAssetRequest{Asset: Asset{Repository: "r", Path: strconv.Itoa(i), Blob: dg("b"), Attributes: big}})
		if err != nil {
			break
		}
		if i > 100 {
			t.Fatal("1 MiB file system never filled")
		}
	}
	if errs.KindOf(err) != errs.InsufficientStorage || errs.Status(err) != 507 {
		t.Fatalf("write on a full disk: %v (kind %v), want insufficient storage", err, errs.KindOf(err))
	}
	if a, err := db.AssetByPath("r", "first"); err != nil || a.ID != first.ID {
		t.Fatalf("reading after the failed write: %+v, %v", a, err)
	}
}
