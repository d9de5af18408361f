package schema_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

func TestImageSpecDocumentedExample(t *testing.T) {
	s, err := schema.LoadImageSpec(shared + "doc_image.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := schema.ImageSpec{
		BaseImageURL:  "http://cdn.yougov.com/build/ubuntu_trusty_pamfix.tar.gz",
		BaseImageName: "ubuntu_trusty_pamfix",
		NewImageName:  "my_awesome_image_20141031",
		ScriptURL:     "/path/to/my_provisioning_script.sh",
		Env:           map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	}
	if !reflect.DeepEqual(*s, want) {
		t.Errorf("got %+v", *s)
	}
	out, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	wantOut := `base_image_md5: null
base_image_name: ubuntu_trusty_pamfix
base_image_url: http://cdn.yougov.com/build/ubuntu_trusty_pamfix.tar.gz
env:
  PATH: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
new_image_md5: null
new_image_name: my_awesome_image_20141031
script_url: /path/to/my_provisioning_script.sh
`
	if string(out) != wantOut {
		t.Errorf("Marshal:\n%s\nwant\n%s", out, wantOut)
	}
	back, err := schema.ParseImageSpec("image.yaml", out)
	if err != nil || !reflect.DeepEqual(s, back) {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

func TestParseImageSpecErrors(t *testing.T) {
	const base = "base_image_url: http://x/b.tar.gz\nbase_image_name: base\nscript_url: ./s.sh\n"
	tests := []struct{ name, data, want string }{
		{"missing new name", base, `image.yaml: key "new_image_name": required key is missing or empty`},
		{"typo", base + "new_image_name: n\nscript: x\n", `image.yaml:5: key "script": unknown key`},
		{"slash in name", base + "new_image_name: a/b\n", `image.yaml:4: key "new_image_name": "a/b" must be a file name`},
		{"int name", base + "new_image_name: 20141031\n", `image.yaml:4: key "new_image_name": got an int (20141031); quote it: new_image_name: "20141031"`},
		{"bad md5", base + "new_image_name: n\nbase_image_md5: 12\n", `image.yaml:5: key "base_image_md5": got an int (12); quote it`},
		{"short md5", base + "new_image_name: n\nnew_image_md5: 'abc'\n", `image.yaml:5: key "new_image_md5": "abc" is not an MD5 digest`},
		{"env name", base + "new_image_name: n\nenv:\n  'A B': x\n", `image.yaml:5: key "env": variable name "A B"`},
		{"newline in url", "base_image_url: \"http://x/\\nb\"\nbase_image_name: base\nscript_url: s\nnew_image_name: n\n", `image.yaml:1: key "base_image_url": "http://x/\nb" contains a control character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.ParseImageSpec("image.yaml", []byte(tt.data))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n  %v\nwant prefix:\n  %s", err, tt.want)
			}
		})
	}
}
