package conformance_test

import "testing"

// A script error in a plugin's sub-pipeline in front of muxHTTP (as in
// tutorial 17 when a body is not JSON) must answer the client, not leave
// it waiting.
const failingTransformScript = `pipy({
  _target: '$UPSTREAM',
})

.listen($PORT)
  .demuxHTTP('request')

.pipeline('request')
  .link(
    'transform', () => true,
    'bypass'
  )
  .muxHTTP(
    'connection',
    () => _target
  )

.pipeline('transform')
  .replaceMessageBody(
    data => JSON.encode(JSON.decode(data))
  )

.pipeline('bypass')

.pipeline('connection')
  .connect(
    () => _target
  )
`

func TestScriptErrorBeforeMuxAnswers(t *testing.T) {
	u := newUpstream(t, "u")
	p := startProxy(t, 1, "/proxy.js", map[string]string{"/proxy.js": failingTransformScript}, map[string]string{"$UPSTREAM": u.addr})
	c := newClient(t, "")
	if r := c.do("POST", p.base+"/echo", `{"ok": true}`); r.status != 200 || r.body != "u /echo" {
		t.Errorf("valid JSON: got %d %q", r.status, r.body)
	}
	if r := fresh(t).do("POST", p.base+"/echo", "not json"); r.status != 500 {
		t.Errorf("a script error: got %d %q, want 500", r.status, r.body)
	}
}
