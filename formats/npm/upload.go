package npm

import (
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// UploadComponent takes Nexus's npm upload form: the tarball in npm.asset.
// It is published as npm publish would: its package.json is the version's
// manifest, it becomes "latest", and the publish goes through the same
// checks (name, new version, tarball agreeing with its manifest).
func (f *Format) UploadComponent(ctx context.Context, r repo.Repository, form *repo.UploadForm) error {
	file, ok := form.Files["npm.asset"]
	if !ok {
		return &errs.FieldError{Field: "asset", Message: "Missing required asset field 'npm.asset'"}
	}
	// The package is named in the tarball: before reading it, only whether
	// the caller may add anywhere (the publish checks the package's path).
	if err := r.AuthorizeFolder(ctx, "add", ""); err != nil {
		return err
	}
	body, err := file.Open()
	if err != nil {
		return err
	}
	max := repo.MaxUploadSize(ctx)
	limit := int64(maxUnboundedBody)
	if max > 0 {
		limit = max
	}
	tgz, err := readBounded(body, limit, "the tarball")
	body.Close()
	if err != nil {
		return err
	}
	pj, err := tarballPackageJSON(tgz)
	if err != nil {
		return &errs.FieldError{Field: "asset", Message: errs.Message(err)}
	}
	compact, err := compactJSON(pj)
	if err != nil {
		return &errs.FieldError{Field: "asset", Message: "the tarball's package.json is not valid JSON"}
	}
	manifest, err := parseObject(compact)
	if err != nil {
		return &errs.FieldError{Field: "asset", Message: "the tarball's package.json is not a JSON object"}
	}
	name, v := stringOf(manifest.get("name")), stringOf(manifest.get("version"))
	if name == "" || v == "" {
		return &errs.FieldError{Field: "asset", Message: "the tarball's package.json has no name or version"}
	}
	sum1, sum512 := sha1.Sum(tgz), sha512.Sum512(tgz)
	dist := object{{"shasum", jsonString(hex.EncodeToString(sum1[:]))},
		{"integrity", jsonString("sha512-" + base64.StdEncoding.EncodeToString(sum512[:]))}}
	manifest.set("_id", jsonString(name+"@"+v))
	manifest.set("dist", dist.marshal())
	length, _ := json.Marshal(len(tgz))
	att := object{{tarballFile(name, v), object{{"content_type", jsonString("application/octet-stream")},
		{"data", jsonString(base64.StdEncoding.EncodeToString(tgz))}, {"length", length}}.marshal()}}
	doc := object{{"_id", jsonString(name)}, {"name", jsonString(name)},
		{"versions", object{{v, manifest.marshal()}}.marshal()},
		{"dist-tags", object{{"latest", jsonString(v)}}.marshal()}}
	_, err = f.publishRelease(ctx, r, name, doc, att, max, putter{user: form.Uploader, ip: form.UploaderIP})
	return err
}
