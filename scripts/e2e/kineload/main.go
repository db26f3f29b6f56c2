// kineload: the reference a re-encryption pass on kine is measured against, independent of the tool's Java code.
// It reads every value under a prefix, then writes each one back unchanged with the single-key update transaction
// kine takes (If mod_revision(key)==R Then put(key, value) Else get(key)), at each concurrency level given, and
// prints one line per level:
//
//	kineload concurrency=<c> values=<n> seconds=<s> rate=<values/s> conflicts=<k> refused=<r>
//
// conflicts: compares that failed because the key had changed (nothing else should write these keys); refused:
// updates kine answered as failed compares although the key had not changed (kine reports any failed SQL insert
// that way, e.g. one that lost its revision to the row kine fills a gap with under load); both are retried.
//
// Usage: kineload -endpoint 127.0.0.1:PORT -prefix /registry/secrets/ -concurrency 1,8,32,64
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// An update kine keeps refusing at an unchanged revision this often is an error, not load.
const maxRefusals = 100

// Keys a range read asks for: the tool's page size, and well under gRPC's 4 MiB with values of up to 4 KiB.
const pageSize = 1000

type value struct {
	key      string
	value    []byte
	revision int64
}

func main() {
	endpoint := flag.String("endpoint", "", "the etcd API to load, host:port (kine's --listen-address)")
	prefix := flag.String("prefix", "", "the keys to rewrite: every key under this prefix")
	levels := flag.String("concurrency", "1,8,32,64", "transactions in flight, one run per comma-separated level")
	timeout := flag.Duration("timeout", 30*time.Second, "how long one transaction may take")
	flag.Parse()
	if *endpoint == "" || *prefix == "" {
		fail("-endpoint and -prefix are required (usage: kineload -endpoint 127.0.0.1:PORT -prefix /registry/secrets/ [-concurrency 1,8,32,64])")
	}
	var concurrency []int
	for _, text := range strings.Split(*levels, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil || c < 1 {
			fail(fmt.Sprintf("-concurrency %q: give positive numbers separated by commas, e.g. 1,8,32,64", *levels))
		}
		concurrency = append(concurrency, c)
	}

	client, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 10 * time.Second,
		Logger: zap.NewNop()})
	if err != nil {
		fail(fmt.Sprintf("cannot reach %s: %v", *endpoint, err))
	}
	defer client.Close()

	start := time.Now()
	values, err := readAll(client, *prefix, *timeout)
	if err != nil {
		fail(fmt.Sprintf("cannot read %s from %s: %v", *prefix, *endpoint, err))
	}
	if len(values) == 0 {
		fail(fmt.Sprintf("no keys under %s on %s: seed them first", *prefix, *endpoint))
	}
	fmt.Printf("kineload read values=%d seconds=%.3f\n", len(values), time.Since(start).Seconds())
	for _, c := range concurrency {
		seconds, conflicts, refused, err := rewrite(client, values, c, *timeout)
		if err != nil {
			fail(fmt.Sprintf("at concurrency %d: %v", c, err))
		}
		fmt.Printf("kineload concurrency=%d values=%d seconds=%.3f rate=%.1f conflicts=%d refused=%d\n", c, len(values),
			seconds, float64(len(values))/seconds, conflicts, refused)
	}
}

// readAll pages through the prefix in key order, as a pass does.
func readAll(client *clientv3.Client, prefix string, timeout time.Duration) ([]*value, error) {
	end := clientv3.GetPrefixRangeEnd(prefix)
	var values []*value
	from := prefix
	for {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		got, err := client.Get(ctx, from, clientv3.WithRange(end), clientv3.WithLimit(pageSize))
		cancel()
		if err != nil {
			return nil, err
		}
		for _, kv := range got.Kvs {
			values = append(values, &value{key: string(kv.Key), value: kv.Value, revision: kv.ModRevision})
		}
		if !got.More || len(got.Kvs) == 0 {
			return values, nil
		}
		from = string(got.Kvs[len(got.Kvs)-1].Key) + "\x00"
	}
}

// rewrite writes every value back with `in flight` transactions at a time; seconds taken, conflicts and refusals.
func rewrite(client *clientv3.Client, values []*value, inFlight int, timeout time.Duration) (float64, int64, int64,
	error) {
	var next, conflicts, refused atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < inFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(values)) {
					return
				}
				changed, refusals, err := update(client, values[i], timeout)
				conflicts.Add(changed)
				refused.Add(refusals)
				if err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(len(values))) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start).Seconds(), conflicts.Load(), refused.Load(), firstErr
}

// update is one compare-and-swap write of v's own value; a failed compare takes the current revision from the Else
// branch and tries again, as a pass would; one at the unchanged revision (kine's failed insert) is tried again as is.
func update(client *clientv3.Client, v *value, timeout time.Duration) (changed, refused int64, err error) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		resp, err := client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(v.key), "=", v.revision)).
			Then(clientv3.OpPut(v.key, string(v.value))).
			Else(clientv3.OpGet(v.key)).
			Commit()
		cancel()
		if err != nil {
			return changed, refused, fmt.Errorf("%s: %w", v.key, err)
		}
		if resp.Succeeded {
			v.revision = resp.Header.Revision
			return changed, refused, nil
		}
		kvs := resp.Responses[0].GetResponseRange().GetKvs()
		if len(kvs) == 0 {
			return changed, refused, fmt.Errorf("%s was deleted meanwhile: nothing else should write under the prefix",
				v.key)
		}
		if kvs[0].ModRevision == v.revision {
			if refused++; refused >= maxRefusals {
				return changed, refused, fmt.Errorf("%s: refused %d times at its current revision %d", v.key, refused,
					v.revision)
			}
			continue
		}
		if !bytes.Equal(kvs[0].Value, v.value) {
			v.value = kvs[0].Value
		}
		v.revision = kvs[0].ModRevision
		changed++
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "kineload: "+message)
	os.Exit(1)
}
