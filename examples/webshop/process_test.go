package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/khiputest"
)

// The shop as its users run it: the binary `go run .` builds, as separate
// processes, behind a load balancer (front), talking to a Khipu outside
// them (khiputest in the test process, reached with -khipu-url), so that a
// shop process can be stopped and started again mid-payment, and two of them
// can share one database as two replicas do.

// shopBin is the shop binary, built once by TestMain.
var shopBin string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "webshop-test-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		shopBin = filepath.Join(dir, "webshop")
		// Under go test -race the shop processes are race-checked too.
		args := []string{"build", "-o", shopBin}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the shop: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// processDeadline bounds every wait for a shop process: to start, to stop.
const processDeadline = 60 * time.Second

// shopProcess is one running shop process.
type shopProcess struct {
	cmd    *exec.Cmd
	addr   string // where it listens, e.g. 127.0.0.1:41234
	log    *lockedBuffer
	exited chan struct{} // closed when the process has ended
	err    error         // its exit status, once exited is closed
}

// startShop starts the shop binary with args and the environment env (on
// top of this process's, less any KHIPU_ variable a developer has set) and
// waits until it listens. It is stopped at the end of the test.
func startShop(t testing.TB, env []string, args ...string) *shopProcess {
	t.Helper()
	cmd := exec.Command(shopBin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KHIPU_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	p := &shopProcess{cmd: cmd, log: &lockedBuffer{}, exited: make(chan struct{})}
	require.NoError(t, cmd.Start())
	listening := make(chan string, 1)
	go func() {
		open := regexp.MustCompile(`msg="shop open" .*listen=(\S+)`)
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			p.log.WriteLine(lines.Text())
			if m := open.FindStringSubmatch(lines.Text()); m != nil {
				listening <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case p.addr = <-listening:
	case <-p.exited:
		t.Fatalf("the shop exited before listening: %v\n%s", p.err, p.log)
	case <-time.After(processDeadline):
		t.Fatalf("the shop did not start listening within %v:\n%s", processDeadline, p.log)
	}
	return p
}

// stop sends SIGTERM, as a process manager does, and waits for the shop to
// end; it must end cleanly. Stopping a stopped shop does nothing.
func (p *shopProcess) stop(t testing.TB) {
	t.Helper()
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(processDeadline):
			_ = p.cmd.Process.Kill()
			<-p.exited
			t.Errorf("the shop did not stop within %v of SIGTERM", processDeadline)
		}
	}
	if p.err != nil && !t.Failed() {
		t.Errorf("the shop ended with %v:\n%s", p.err, p.log)
	}
}

// logged stops the shop, then counts its log records with message msg
// that mention order. A record the shop wrote before an answer the test
// has seen may still be in the pipe, unread: only once the shop has exited
// and its stderr is drained is the log complete, and the count exact.
func (p *shopProcess) logged(t *testing.T, msg, order string) int {
	t.Helper()
	return p.count(t, msg, "order="+order)
}

// loggedWith is logged, counting only the records that also contain
// with.
func (p *shopProcess) loggedWith(t *testing.T, msg, order, with string) int {
	t.Helper()
	return p.count(t, msg, "order="+order, with)
}

// count stops the shop, then counts its log records with message msg that
// have each of with, a key=value, among their attributes.
func (p *shopProcess) count(t testing.TB, msg string, with ...string) int {
	t.Helper()
	p.stop(t)
	n := 0
	for _, line := range strings.Split(p.log.String(), "\n") {
		if strings.Contains(line, `msg="`+msg+`"`) && !slices.ContainsFunc(with, func(w string) bool { return !strings.Contains(line+" ", " "+w+" ") }) {
			n++
		}
	}
	return n
}

// loggedValue returns the value of key in the shop's first log record with
// message msg, or "". It reads the shop's log as it is, without waiting:
// use it only for records the shop writes before "shop open", which
// startShop has read before it returns.
func (p *shopProcess) loggedValue(msg, key string) string {
	value := regexp.MustCompile(` ` + regexp.QuoteMeta(key) + `=(\S+)`)
	for _, line := range strings.Split(p.log.String(), "\n") {
		if strings.Contains(line, `msg="`+msg+`"`) {
			if m := value.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

// lockedBuffer is a log that one goroutine writes while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s + "\n")
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// front is the load balancer in front of the shop's replicas: the shop's
// public URL, which payers and Khipu reach whatever replicas run behind it.
// It sends requests to the replicas in turn. While holding, it keeps the
// notifications Khipu sends instead of passing them on, and answers 503 as a
// load balancer with no healthy replica does; the test then delivers them
// itself, to chosen replicas, at chosen times.
type front struct {
	srv *httptest.Server

	mu       sync.Mutex
	replicas []string
	next     int
	holding  bool
	held     []heldRequest
}

type heldRequest struct {
	header http.Header
	body   []byte
}

func newFront(t testing.TB) *front {
	f := &front{}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: "http", Host: f.pick()})
	}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/khipu/notify" && f.hold(r) {
			http.Error(w, "no replica available", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the shop's public URL.
func (f *front) URL() string { return f.srv.URL }

// route sends the requests that arrive from now on to these replicas.
func (f *front) route(replicas ...*shopProcess) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replicas = f.replicas[:0]
	for _, p := range replicas {
		f.replicas = append(f.replicas, p.addr)
	}
}

func (f *front) pick() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.replicas) == 0 {
		return "127.0.0.1:1" // refused: the proxy answers 502
	}
	f.next++
	return f.replicas[f.next%len(f.replicas)]
}

// setHolding starts or stops holding notifications.
func (f *front) setHolding(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holding = on
}

// hold keeps the notification r when holding.
func (f *front) hold(r *http.Request) bool {
	f.mu.Lock()
	holding := f.holding
	f.mu.Unlock()
	if !holding {
		return false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held = append(f.held, heldRequest{header: r.Header.Clone(), body: body})
	return true
}

// heldNotifications returns the notifications held so far.
func (f *front) heldNotifications() []heldRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]heldRequest(nil), f.held...)
}

// deliver POSTs a held notification, byte for byte, to one replica and
// returns its answer's status.
func (h heldRequest) deliver(ctx context.Context, to *shopProcess) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+to.addr+"/khipu/notify", bytes.NewReader(h.body))
	if err != nil {
		return 0, err
	}
	req.Header = h.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// replicaSet is a Khipu, a front, and the shop processes behind it, all
// sharing one database.
type replicaSet struct {
	api   khipuAPI
	khipu *khiputest.Server
	front *front
	args  []string // the shop's flags
	env   []string
	dsn   string
}

func newReplicaSet(t testing.TB, api khipuAPI, dsn string) *replicaSet {
	t.Helper()
	srv := newKhipu(t)
	args, env := api.flags(srv)
	f := newFront(t)
	return &replicaSet{
		api: api, khipu: srv, front: f, dsn: dsn, env: env,
		args: append(args, "-db", dsn, "-public-url", f.URL()),
	}
}

// start starts one more shop process, with extra flags after the set's;
// the front does not send it anything until route says so.
func (rs *replicaSet) start(t testing.TB, extra ...string) *shopProcess {
	t.Helper()
	return startShop(t, rs.env, append(slices.Clone(rs.args), extra...)...)
}

// buy orders a product through the front, as a payer's browser does, and
// returns the order id and the id of the payment the payer was sent to.
func (rs *replicaSet) buy(t testing.TB, product string) (orderID, paymentID string) {
	t.Helper()
	paymentID = rs.checkout(t, product)
	return rs.api.paymentOrder(t, rs.khipu, paymentID), paymentID
}

// checkout posts the product form through the front, as a payer's browser
// does, and returns the id of the payment the shop sent the payer to.
func (rs *replicaSet) checkout(t testing.TB, product string) (paymentID string) {
	t.Helper()
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirects.PostForm(rs.front.URL()+"/orders", url.Values{"product": {product}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	return path.Base(resp.Header.Get("Location"))
}

// store opens the replicas' database from the test, to look at it.
func (rs *replicaSet) store(t testing.TB) *Store { return openStore(t, rs.dsn) }

// eventuallyDeadline bounds a wait for something the shop processes do on
// their own, such as the reconciler paying an order.
const eventuallyDeadline = 60 * time.Second

// eventually waits until done reports true, asking every 20 ms, and fails
// the test after eventuallyDeadline.
func eventually(t testing.TB, what string, done func() bool) {
	t.Helper()
	deadline := time.After(eventuallyDeadline)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not within %v", what, eventuallyDeadline)
		}
	}
}
