package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The home page loads, lists the codebases and tutorials, and names its
// controls. The time to a ready page (empty browser cache, best of three)
// is reported, not asserted: speed is measured, never a test's pass mark,
// as a loaded CI machine would fail a correct build.
func TestFirstLoad(t *testing.T) {
	best := 1e9
	var tb *tab
	for i := 0; i < 3 && best > 1000; i++ {
		tb = newTab(t, 1280, 800)
		tb.do("clear the cache", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.ClearBrowserCache, cdp.Empty{})
			return err
		}))
		tb.open("/")
		ms := eval[float64](tb, `performance.getEntriesByName('sluice-ready')[0].startTime`)
		t.Logf("first load: ready %.0f ms after navigation start (%s)", ms, eval[string](tb, `[
			...performance.getEntriesByType('resource').filter(r => /app\.(js|css)$/.test(r.name)).map(r => r.name.replace(/.*\//, '') + ' ' + r.responseEnd.toFixed(0)),
			...performance.getEntriesByType('mark').map(m => m.name.replace('sluice-', '') + ' ' + m.startTime.toFixed(0)),
			...performance.getEntriesByType('resource').filter(r => r.name.includes('/api/')).slice(0, 6).map(r => r.name.replace(/.*\/api\/v1/, '') + ' ' + r.startTime.toFixed(0) + '/' + r.requestStart.toFixed(0) + '/' + r.responseStart.toFixed(0) + '/' + r.responseEnd.toFixed(0)),
		].join(', ') + ' ms'`))
		best = min(best, ms)
	}
	t.Logf("first load: %.0f ms at best (the console aims for under 1000 ms from localhost)", best)
	for _, label := range []string{"Run", "Stop", "Restart", "New codebase"} {
		n := eval[int](tb, fmt.Sprintf(`document.querySelectorAll('button[aria-label=%q]').length`, label))
		if n == 0 {
			t.Errorf("no button labelled %q", label)
		}
	}
	tb.waitJS("the tutorials on the home page", `document.querySelector('.home .steps')?.textContent.includes('Hello')`, 5*time.Second)
	tb.waitJS("the stopped state", `document.querySelector('.run-state')?.textContent.includes('Stopped')`, 5*time.Second)
	tb.shot("01-home")
}

// The whole loop: create a codebase, write a script, flag it main, run it,
// watch the log and the diagram, change it, commit, stop.
func TestWorkflow(t *testing.T) {
	tb := newTab(t, 1280, 800)
	port := freePort()
	tb.open("/")

	// Create a codebase.
	tb.click(button("New codebase"))
	tb.do("name the codebase", waitVisible(`dialog[open] input[name=path]`))
	tb.do("type the path", setInput(`dialog[open] input[name=path]`, "/e2e/hello"))
	tb.click(`dialog[open] button[type=submit]`)
	tb.waitJS("the new codebase", `location.pathname === '/repo/e2e/hello/'`, 5*time.Second)
	tb.waitJS("its files", `document.querySelector('.side-body')?.textContent.includes('main.js')`, 5*time.Second)

	// A new file, in a folder-less path.
	tb.click(button("New file"))
	tb.do("name the file", waitVisible(`dialog[open] input[name=path]`))
	tb.do("type the file name", setInput(`dialog[open] input[name=path]`, "/hello.js"))
	tb.click(`dialog[open] button[type=submit]`)
	tb.waitJS("the new file open", `new URLSearchParams(location.search).get('file') === '/hello.js'`, 5*time.Second)
	tb.waitJS("the editor", `document.querySelector('.cm-content[aria-label="Editor: /hello.js"]')`, 5*time.Second)

	// Type the script and save it with Ctrl+S.
	script := fmt.Sprintf("pipy()\n.listen(%d)\n.serveHTTP(new Message('Hello from the e2e test'))", port)
	tb.typeInEditor(script)
	if got := tb.editorText(); !strings.Contains(got, "serveHTTP(new Message('Hello from the e2e test'))") {
		t.Fatalf("the editor holds %q", got)
	}
	tb.waitJS("the unsaved marker", `document.querySelector('.row.file[data-path="/hello.js"] .mark.dirty')`, 5*time.Second)
	tb.save()
	tb.waitJS("the saved state", `!document.querySelector('.row.file[data-path="/hello.js"] .mark.dirty') && document.querySelector('.row.file[data-path="/hello.js"] .mark.added')`, 5*time.Second)

	// Flag it main with one click.
	tb.click(button("Flag /hello.js as the main entry"))
	tb.waitJS("the main flag", `document.querySelector('.row.file[data-path="/hello.js"] .flag')?.getAttribute('aria-pressed') === 'true'`, 5*time.Second)

	// The diagram of the module being edited.
	tb.waitJS("serveHTTP in the diagram", `[...document.querySelectorAll('svg.diagram text')].some(e => e.textContent === 'serveHTTP')`, 10*time.Second)

	// Run: the state shows, the log says where it listens, the port answers.
	tb.click(button("Run"))
	tb.waitJS("the running state", `document.querySelector('.run-state.running')?.textContent.includes('/e2e/hello')`, 10*time.Second)
	tb.waitJS("the listener in the log", fmt.Sprintf(`[...document.querySelectorAll('.log-lines .line')].some(e => e.textContent.includes('Listening on port %d'))`, port), 10*time.Second)
	body, err := get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil || body != "Hello from the e2e test" {
		t.Fatalf("GET the script's port: %q, %v", body, err)
	}
	tb.shot("02-editor-running")

	// The running program's diagram, and the status with its listener.
	tb.click(`.segmented button:nth-child(2)`)
	tb.waitJS("the running program's diagram", `document.querySelector('.module h3')?.textContent.includes('/hello.js') && document.querySelector('.module svg.diagram')?.textContent.includes('serveHTTP')`, 5*time.Second)
	tb.click(`.segmented button:nth-child(1)`)
	for i := 0; i < 5; i++ {
		get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	}
	tb.click(`#panel-tab-status`)
	tb.waitJS("the listener in the status", fmt.Sprintf(`document.querySelector('.status-view')?.textContent.includes(':%d')`, port), 5*time.Second)
	for i := 0; ; i++ {
		get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		label := eval[string](tb, `document.querySelector('svg.chart')?.getAttribute('aria-label') ?? ''`)
		if strings.Contains(label, "peak") && !strings.HasSuffix(label, "peak 0") {
			break
		}
		if i == 50 {
			tb.fail("no requests in the chart: %q", label)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.shot("03-status")
	tb.click(`#panel-tab-diagram`)

	// Edit and save: the diagram follows.
	v2 := fmt.Sprintf("pipy()\n.listen(%d)\n.demuxHTTP('request')\n.pipeline('request')\n.replaceMessage(new Message('Version two'))", port)
	tb.typeInEditor(v2)
	tb.save()
	tb.waitJS("the new diagram", `(() => { const t = [...document.querySelectorAll('svg.diagram text')].map(e => e.textContent); return t.includes('demuxHTTP') && t.includes('request') && t.includes('replaceMessage') && !document.querySelector('svg.diagram.stale') })()`, 10*time.Second)
	tb.shot("04-diagram-changed")

	// Restart picks the change up.
	tb.click(button("Restart"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		body, err = get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if body == "Version two" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if body != "Version two" {
		t.Fatalf("after Restart the port answers %q, %v", body, err)
	}

	// A compile error shows inline and in the diagram panel.
	tb.do("focus the editor", focusEditorEnd())
	tb.do("type a broken call", typeKeys("\n.bogus("))
	tb.waitJS("the inline diagnostic", `document.querySelector('.cm-lintRange-error, .cm-lint-marker-error')`, 10*time.Second)
	tb.waitJS("the error over the diagram", `document.querySelector('.diagram-view .banner.error')`, 5*time.Second)
	tb.shot("05-diagnostic")
	tb.typeInEditor(v2)
	tb.save()
	tb.waitJS("the error gone", `!document.querySelector('.diagram-view .banner.error') && !document.querySelector('.cm-lintRange-error')`, 10*time.Second)

	// Commit publishes version 2.
	tb.click(button("Commit"))
	tb.waitJS("version 2", `document.querySelector('.cb-meta')?.textContent.includes('version 2') && !document.querySelector('.cb-meta .badge.draft')`, 5*time.Second)

	// Stop.
	tb.click(button("Stop"))
	tb.waitJS("the stopped state", `document.querySelector('.run-state.stopped')`, 10*time.Second)
	if _, err := get(fmt.Sprintf("http://127.0.0.1:%d/", port)); err == nil {
		t.Fatal("the port still answers after Stop")
	}

	// The address is shareable: loading it again opens the same file.
	tb.open("/repo/e2e/hello/?file=/hello.js")
	tb.waitJS("the file reopened", `document.querySelector('.cm-content')?.innerText.includes('Version two')`, 5*time.Second)
}

// Completion offers the scripting API with signatures and help.
func TestCompletion(t *testing.T) {
	api(t, "POST", "/api/v1/repo/e2e/complete", "{}")
	tb := newTab(t, 1280, 800)
	tb.open("/repo/e2e/complete/?file=/main.js")
	tb.typeInEditor("pipy()\n.listen(8080)\n")
	tb.do("type .serv", typeKeys(".serv"))
	tb.waitJS("serveHTTP offered", `[...document.querySelectorAll('.cm-tooltip-autocomplete li')].some(li => li.textContent.includes('serveHTTP'))`, 5*time.Second)
	tb.waitJS("its signature and help", `document.querySelector('.cm-completionInfo .api-info code')?.textContent.startsWith('serve')`, 5*time.Second)
	tb.shot("06-completion")
	tb.do("escape", typeKeys(kbEscape))
	// Inside the call's brackets, its signature shows.
	tb.do("type (", typeKeys("eHTTP("))
	tb.waitJS("the signature", `document.querySelector('.api-signature code')?.textContent.startsWith('serveHTTP(')`, 5*time.Second)
	tb.shot("06b-signature")
	tb.do("type new algo.", typeKeys("new algo."))
	tb.waitJS("algo's classes offered", `[...document.querySelectorAll('.cm-tooltip-autocomplete li')].some(li => li.textContent.includes('URLRouter'))`, 5*time.Second)
	tb.do("escape", typeKeys(kbEscape))
}

// A tutorial step: read it, open it (a derived codebase), run it.
func TestTutorial(t *testing.T) {
	tb := newTab(t, 1280, 800)
	tb.open("/")
	tb.click(`#side-tab-tutorials`)
	tb.click(`.side-body .step`)
	tb.waitJS("the step's text", `document.querySelector('.guide .markdown h2')?.textContent.includes('Hello')`, 5*time.Second)
	tb.waitJS("its code", `document.querySelector('.cm-content')?.innerText.includes('serveHTTP')`, 5*time.Second)
	tb.waitJS("the read-only banner", `document.querySelector('.banner.info')`, 5*time.Second)
	tb.shot("07-tutorial")

	tb.click(button("Open this step"))
	tb.waitJS("the derived codebase", `location.pathname === '/repo/learn/01-hello/'`, 5*time.Second)
	tb.waitJS("its editable code", `document.querySelector('.cm-content')?.innerText.includes('serveHTTP') && document.querySelector('.cm-content').contentEditable === 'true'`, 5*time.Second)
	tb.waitJS("the guide beside it", `document.querySelector('.guide .markdown')`, 5*time.Second)

	free := true
	if _, err := get("http://127.0.0.1:8080/"); err == nil {
		free = false
		t.Log("something answers on 8080 already: the step cannot listen there")
	}
	tb.click(button("Run /learn/01-hello"))
	if free {
		tb.waitJS("the step running", `document.querySelector('.run-state.running')?.textContent.includes('/learn/01-hello')`, 10*time.Second)
		tb.waitJS("its listener in the log", `[...document.querySelectorAll('.log-lines .line')].some(e => e.textContent.includes('Listening on port 8080'))`, 10*time.Second)
		if body, err := get("http://127.0.0.1:8080/"); err != nil || !strings.Contains(body, "Hello") {
			t.Errorf("GET :8080: %q, %v", body, err)
		}
		tb.shot("08-tutorial-running")
		tb.click(button("Stop"))
		tb.waitJS("the stopped state", `document.querySelector('.run-state.stopped')`, 10*time.Second)
	}
}

// A save based on a stale copy (another tab saved meanwhile) shows the
// conflict, and the user chooses.
func TestConflict(t *testing.T) {
	api(t, "POST", "/api/v1/repo/e2e/conflict", "{}")
	a := newTab(t, 1280, 800)
	b := newTab(t, 1280, 800)
	a.open("/repo/e2e/conflict/?file=/main.js")
	b.open("/repo/e2e/conflict/?file=/main.js")
	a.waitJS("the editor", `document.querySelector('.cm-content')`, 5*time.Second)
	b.waitJS("the editor", `document.querySelector('.cm-content')`, 5*time.Second)

	b.typeInEditor("pipy() // from tab B\n")
	a.typeInEditor("pipy() // from tab A\n")
	a.save()
	a.waitJS("tab A saved", `!document.querySelector('.row.file[data-path="/main.js"] .mark.dirty')`, 5*time.Second)
	b.save()
	b.waitJS("the conflict", `document.querySelector('.banner.conflict')?.textContent.includes('Conflict')`, 5*time.Second)
	b.shot("09-conflict")

	b.click(`.banner.conflict .btn.danger`)
	b.waitJS("the conflict resolved", `!document.querySelector('.banner.conflict')`, 5*time.Second)
	text, err := get(consoleURL + "/api/v1/repo/e2e/conflict/main.js")
	if err != nil || !strings.Contains(text, "from tab B") {
		t.Fatalf("after overwriting: %q, %v", text, err)
	}
}

// In a narrow window the sidebar is a drawer and everything stacks.
func TestNarrow(t *testing.T) {
	tb := newTab(t, 390, 844)
	tb.open("/repo/tutorials/05-plugins/")
	tb.waitJS("the code", `document.querySelector('.cm-content')?.innerText.includes('use(')`, 5*time.Second)
	w := eval[float64](tb, `document.documentElement.scrollWidth`)
	if w > 400 {
		t.Errorf("the page is %.0f px wide in a 390 px window", w)
	}
	tb.shot("10-narrow")
	tb.click(button("Show the sidebar"))
	tb.waitJS("the drawer", `document.querySelector('.menu-open') && document.querySelector('.side').getBoundingClientRect().left >= 0`, 3*time.Second)
	tb.shot("11-narrow-sidebar")
	tb.click(`#side-tab-files`)
	tb.click(`.row.file[data-path="/plugins/router.js"] .row-main`)
	tb.waitJS("the drawer closed and the file open", `!document.querySelector('.menu-open') && document.querySelector('.cm-content')?.innerText.includes('URLRouter')`, 5*time.Second)
}

// The controls are reachable with the keyboard, by name.
func TestKeyboard(t *testing.T) {
	api(t, "POST", "/api/v1/repo/e2e/keys", "{}")
	tb := newTab(t, 1280, 800)
	tb.open("/repo/e2e/keys/?file=/main.js")
	tb.waitJS("the editor", `document.querySelector('.cm-content')`, 5*time.Second)
	focused := func() string {
		return eval[string](tb, `(e => e.getAttribute('aria-label') || e.textContent.trim())(document.activeElement)`)
	}
	// Tab through the page from the top and collect what gets focus.
	seen := map[string]bool{}
	eval[bool](tb, `document.activeElement.blur(), true`)
	for i := 0; i < 40; i++ {
		tb.do("Tab", typeKeys(kb.Tab))
		name := focused()
		seen[name] = true
		if strings.HasPrefix(name, "Editor:") {
			break // Tab indents inside the editor
		}
	}
	for _, want := range []string{"Sluice: home", "Run", "Files", "New file", "/main.js is the main entry", "Editor: /main.js"} {
		if !seen[want] {
			t.Errorf("%q is not reachable with Tab (got %q)", want, keys(seen))
		}
	}
	// Stop and Restart are there, disabled while nothing runs.
	if n := eval[int](tb, `[...document.querySelectorAll('button[aria-label="Stop"], button[aria-label="Restart"]')].filter(b => b.disabled).length`); n != 2 {
		t.Errorf("want Stop and Restart disabled while nothing runs, %d are", n)
	}
	// With a change, Save and Commit are enabled and come before the editor:
	// Escape lets Tab leave the editor.
	tb.do("type", typeKeys("// a change"))
	// The first Escape closes the completion that typing opened, the second
	// lets the next Tab leave the editor.
	tb.do("Escape", typeKeys(kbEscape), chromedp.Sleep(100*time.Millisecond), typeKeys(kbEscape))
	tb.do("Shift+Tab", chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
	if got := focused(); got != "Commit" {
		t.Errorf("Shift+Tab from the editor focuses %q, want Commit", got)
	}
	tb.do("Shift+Tab", chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
	if got := focused(); got != "Save" {
		t.Errorf("then %q, want Save", got)
	}
	tb.do("Enter", typeKeys(kb.Enter))
	tb.waitJS("the saved state", `!document.querySelector('.row.file .mark.dirty')`, 5*time.Second)
	// The sidebar's tabs follow the arrow keys.
	tb.do("focus the Files tab", focusSel("#side-tab-files"))
	tb.do("ArrowRight", typeKeys(kb.ArrowRight))
	tb.waitJS("the Tutorials tab", `document.activeElement.id === 'side-tab-tutorials' && document.activeElement.getAttribute('aria-selected') === 'true'`, 3*time.Second)
	// A dialog opened from the keyboard takes the focus and Escape closes it.
	tb.do("Codebases tab", typeKeys(kb.Home))
	tb.do("focus New codebase", focusSel(button("New codebase")))
	tb.do("Enter", typeKeys(kb.Enter))
	tb.waitJS("the dialog's field focused", `document.activeElement?.name === 'path' && document.activeElement.closest('dialog[open]')`, 3*time.Second)
	tb.do("Escape", typeKeys(kbEscape))
	tb.waitJS("the dialog closed", `!document.querySelector('dialog[open]')`, 3*time.Second)
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// A use filter's chain of modules is drawn, each module a link to its file.
func TestUseChain(t *testing.T) {
	tb := newTab(t, 1280, 800)
	tb.open("/repo/tutorials/05-plugins/?file=/main.js")
	tb.click(`#panel-tab-diagram`)
	tb.waitJS("the use chain", `document.querySelector('.dg-use') && document.querySelector('.dg-open[aria-label="Open /plugins/not-found.js"]')`, 10*time.Second)
	tb.shot("12-use-chain")
	tb.click(`.dg-open[aria-label="Open /plugins/router.js"]`)
	tb.waitJS("the router open", `new URLSearchParams(location.search).get('file') === '/plugins/router.js'`, 5*time.Second)
	tb.waitJS("its diagram", `[...document.querySelectorAll('svg.diagram text')].some(e => e.textContent === 'handleMessageStart') && !document.querySelector('.diagram-view .banner.error')`, 10*time.Second)
}

// The log panel: lines arrive as they are logged, errors in colour with a
// link to their place, a filter, auto-scroll that pauses while the reader
// looks further up, and clear.
func TestLogPanel(t *testing.T) {
	port := freePort()
	api(t, "POST", "/api/v1/repo/e2e/log", "{}")
	api(t, "POST", "/api/v1/repo/e2e/log/main.js", fmt.Sprintf("pipy()\n.listen(%d)\n.serveHTTP(msg => (\n  console.log('request ' + msg.head.path),\n  msg.head.path === '/boom' ? undefined.x : new Message('ok')\n))\n", port))
	tb := newTab(t, 1280, 800)
	tb.open("/repo/e2e/log/?file=/main.js")
	tb.click(button("Run"))
	tb.waitJS("the listener", fmt.Sprintf(`[...document.querySelectorAll('.log-lines .line')].some(e => e.textContent.includes('Listening on port %d'))`, port), 10*time.Second)
	request := func(path string) {
		t.Helper()
		if _, err := get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path)); err != nil && path != "/boom" {
			t.Fatal(err)
		}
	}
	for i := 0; i < 30; i++ {
		request(fmt.Sprintf("/%d", i))
	}
	tb.waitJS("the requests logged", `[...document.querySelectorAll('.log-lines .line')].some(e => e.textContent.endsWith('request /29'))`, 5*time.Second)
	tb.waitJS("the log followed to the end", `(l => l.scrollTop + l.clientHeight >= l.scrollHeight - 6)(document.querySelector('.log-lines'))`, 3*time.Second)

	// An error: red, with a link to where it happened.
	request("/boom")
	tb.waitJS("the error line", `[...document.querySelectorAll('.log-lines .line.err')].some(e => e.textContent.includes('TypeError'))`, 5*time.Second)
	tb.click(`.log-lines .line.err .linklike`)
	tb.waitJS("the editor at the error", `document.activeElement?.classList.contains('cm-content') && document.querySelector('.cm-activeLine')?.textContent.includes('undefined.x')`, 5*time.Second)

	// Filter.
	tb.do("filter", setInput(`input[aria-label="Filter the log"]`, "request /1"))
	tb.waitJS("only the matching lines", `(v => v.length === 11 && v.every(e => e.textContent.includes('request /1')))([...document.querySelectorAll('.log-lines .line')].filter(e => !e.hidden))`, 3*time.Second)
	tb.shot("13-log-filter")
	tb.do("no filter", setInput(`input[aria-label="Filter the log"]`, ""))
	tb.waitJS("every line again", `[...document.querySelectorAll('.log-lines .line')].filter(e => !e.hidden).length > 30`, 3*time.Second)

	// Scrolled up, new lines do not move the view; a button says how many came.
	eval[bool](tb, `(l => (l.scrollTop = 0, l.dispatchEvent(new Event('scroll')), true))(document.querySelector('.log-lines'))`)
	for i := 0; i < 5; i++ {
		request(fmt.Sprintf("/later/%d", i))
	}
	tb.waitJS("the new-lines button", `document.querySelector('.jump:not([hidden])')?.textContent.includes('5 new lines')`, 5*time.Second)
	if top := eval[float64](tb, `document.querySelector('.log-lines').scrollTop`); top != 0 {
		t.Errorf("the log scrolled to %v while paused", top)
	}
	tb.shot("14-log-paused")
	tb.click(`.jump`)
	tb.waitJS("following again", `document.querySelector('.jump').hidden && (l => l.scrollTop + l.clientHeight >= l.scrollHeight - 6)(document.querySelector('.log-lines'))`, 3*time.Second)

	// Clear.
	tb.click(button("Clear the log"))
	tb.waitJS("an empty log", `document.querySelectorAll('.log-lines .line').length === 0`, 3*time.Second)
	request("/after-clear")
	tb.waitJS("new lines after clearing", `document.querySelectorAll('.log-lines .line').length === 1`, 5*time.Second)
	tb.click(button("Stop"))
	tb.waitJS("the stopped state", `document.querySelector('.run-state.stopped')`, 10*time.Second)
}

// Files: new ones in folders, rename, delete and restore, the main flag;
// codebases: derive (base markers), delete.
func TestFilesAndCodebases(t *testing.T) {
	api(t, "POST", "/api/v1/repo/e2e/files", "{}")
	tb := newTab(t, 1280, 800)
	tb.open("/repo/e2e/files/")
	row := func(path string) string { return fmt.Sprintf(`.row.file[data-path=%q]`, path) }
	dialog := func(value string) {
		t.Helper()
		tb.do("the dialog", waitVisible(`dialog[open] input[name=path]`))
		tb.do("type", setInput(`dialog[open] input[name=path]`, value))
		tb.click(`dialog[open] button[type=submit]`)
	}
	confirm := func() {
		t.Helper()
		tb.click(`dialog[open] button[type=submit]`)
	}

	// A file in a new folder.
	tb.click(button("New file"))
	dialog("/plugins/extra.js")
	tb.waitJS("the folder and the file", `[...document.querySelectorAll('.row.folder')].some(r => r.textContent.includes('plugins')) && document.querySelector('`+row("/plugins/extra.js")+`.current')`, 5*time.Second)
	tb.typeInEditor("pipy()\n.pipeline('request')\n.dummy()")
	tb.save()
	tb.waitJS("saved", `!document.querySelector('.mark.dirty')`, 5*time.Second)

	// Rename it: the text goes along.
	tb.click(button("Rename /plugins/extra.js"))
	dialog("/plugins/renamed.js")
	tb.waitJS("the renamed file open", `document.querySelector('`+row("/plugins/renamed.js")+`.current') && !document.querySelector('`+row("/plugins/extra.js")+`') && document.querySelector('.cm-content').innerText.includes('dummy')`, 5*time.Second)

	// A file never committed is gone for good when deleted.
	tb.click(button("Delete /plugins/renamed.js"))
	confirm()
	tb.waitJS("the file gone", `!document.querySelector('`+row("/plugins/renamed.js")+`')`, 5*time.Second)

	// A committed one is marked deleted until the next commit, and restored.
	tb.click(button("New file"))
	dialog("/b.js")
	tb.typeInEditor("pipy()\n.listen(0)\n.dummy()")
	tb.click(button("Commit"))
	tb.waitJS("version 2", `document.querySelector('.cb-meta')?.textContent.includes('version 2')`, 5*time.Second)
	tb.click(button("Delete /b.js"))
	confirm()
	tb.waitJS("marked deleted", `document.querySelector('`+row("/b.js")+`.erased .mark.erased') && document.querySelector('.cb-meta .badge.draft')`, 5*time.Second)
	tb.click(button("Restore /b.js"))
	tb.waitJS("restored", `document.querySelector('`+row("/b.js")+`:not(.erased)') && !document.querySelector('.cb-meta .badge.draft')`, 5*time.Second)

	// The main flag moves with one click.
	tb.click(button("Flag /b.js as the main entry"))
	tb.waitJS("the flag moved", `document.querySelector('`+row("/b.js")+` .flag[aria-pressed="true"]') && document.querySelector('`+row("/main.js")+` .flag[aria-pressed="false"]')`, 5*time.Second)

	// Derive a codebase: it starts with the base's files, marked.
	tb.click(`#side-tab-codebases`)
	tb.click(button("Derive from /e2e/files"))
	dialog("/e2e/derived")
	tb.waitJS("the derived codebase", `location.pathname === '/repo/e2e/derived/' && document.querySelector('`+row("/b.js")+`.base .mark.base') && document.querySelector('.cb-base a')?.textContent === '/e2e/files'`, 5*time.Second)
	tb.shot("15-derived")

	// A codebase others derive from cannot be deleted; a leaf can.
	tb.click(`#side-tab-codebases`)
	tb.click(button("Delete /e2e/files"))
	tb.waitJS("the refusal", `[...document.querySelectorAll('.toast.error')].some(e => e.textContent.includes('/e2e/derived'))`, 5*time.Second)
	tb.click(`.toast.error button[aria-label="Dismiss"]`)
	tb.click(button("Delete /e2e/derived"))
	confirm()
	tb.waitJS("the codebase gone", `location.pathname === '/' && !document.querySelector('button[aria-label="Delete /e2e/derived"]')`, 5*time.Second)
	tb.shot("16-codebases")
}

// The log panel folds down to its header, and the editor gets the room.
func TestLogFold(t *testing.T) {
	tb := newTab(t, 1280, 800)
	tb.open("/")
	before := eval[float64](tb, `document.querySelector('.center').getBoundingClientRect().height`)
	tb.click(button("Hide the log"))
	tb.waitJS("the log folded", fmt.Sprintf(`document.querySelector('.center').getBoundingClientRect().height > %v + 100 && document.querySelector('button[aria-label="Show the log"]')`, before), 3*time.Second)
	tb.click(button("Show the log"))
	tb.waitJS("the log back", fmt.Sprintf(`Math.abs(document.querySelector('.center').getBoundingClientRect().height - %v) < 2`, before), 3*time.Second)
}
