package schema_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

func sampleImageResult() *schema.ImageResult {
	return &schema.ImageResult{
		ImageSpec: schema.ImageSpec{
			BaseImageURL:  "http://example.com/debian-bookworm.tar.gz",
			BaseImageName: "debian-bookworm",
			NewImageName:  "stack_20260101",
			ScriptURL:     "provision.sh",
			BaseImageMD5:  strings.Repeat("a", 32),
			NewImageMD5:   strings.Repeat("b", 32),
			Env:           map[string]string{"DEBIAN_FRONTEND": "noninteractive"},
		},
		BaseImageSHA256: strings.Repeat("c", 64),
		NewImageSHA256:  strings.Repeat("d", 64),
		ScriptSHA256:    strings.Repeat("e", 64),
	}
}

func TestImageResultRoundTrip(t *testing.T) {
	r := sampleImageResult()
	p := filepath.Join(t.TempDir(), "stack_20260101.yaml")
	if err := r.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	got, err := schema.LoadImageResult(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
	}
	out, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `base_image_md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
base_image_name: debian-bookworm
base_image_sha256: cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
base_image_url: http://example.com/debian-bookworm.tar.gz
env:
  DEBIAN_FRONTEND: noninteractive
new_image_md5: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
new_image_name: stack_20260101
new_image_sha256: dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
script_sha256: eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
script_url: provision.sh
`
	if string(out) != want {
		t.Errorf("Marshal:\n%s\nwant\n%s", out, want)
	}
}

func TestImageResultErrors(t *testing.T) {
	good, err := sampleImageResult().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ from, to, key, msg string }{
		{"script_sha256: eeee", "script_sha256: zzzz", "script_sha256", "not a SHA-256 digest"},
		{"new_image_md5: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "new_image_md5: null", "new_image_md5", "required"},
		{"script_url:", "script_ulr:", "script_ulr", "unknown"},
		{"new_image_name: stack_20260101", "new_image_name: a/b", "new_image_name", "file name"},
	}
	for _, tc := range cases {
		data := strings.Replace(string(good), tc.from, tc.to, 1)
		_, err := schema.ParseImageResult("x.yaml", []byte(data))
		var se *schema.Error
		if !errors.As(err, &se) || se.Key != tc.key || !strings.Contains(err.Error(), tc.msg) || se.Line == 0 && tc.key != "new_image_md5" {
			t.Errorf("%s -> %s: got %v", tc.from, tc.to, err)
		}
	}
}
