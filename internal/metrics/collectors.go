package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector reads pgxpool's counters at scrape time (no goroutine, no
// copies to keep in step): connections by state, acquires, the time spent
// waiting for a connection, and the acquires that found the pool empty or
// were canceled while waiting (the 503s of the bounded wait among them).
func PoolCollector(stat func() *pgxpool.Stat) prometheus.Collector {
	return &poolCollector{stat: stat}
}

type poolCollector struct{ stat func() *pgxpool.Stat }

var (
	poolConns = prometheus.NewDesc("platform_db_pool_connections",
		"Pool connections by state (acquired, idle, constructing) and the maximum.", []string{"state"}, nil)
	poolAcquires = prometheus.NewDesc("platform_db_pool_acquires_total",
		"Successful connection acquires.", nil, nil)
	poolAcquireWait = prometheus.NewDesc("platform_db_pool_acquire_wait_seconds_total",
		"Total time spent acquiring connections (successful acquires).", nil, nil)
	poolEmpty = prometheus.NewDesc("platform_db_pool_empty_acquires_total",
		"Acquires that had to wait because no connection was idle.", nil, nil)
	poolEmptyWait = prometheus.NewDesc("platform_db_pool_empty_acquire_wait_seconds_total",
		"Total time acquires waited for a connection to be released or created.", nil, nil)
	poolCanceled = prometheus.NewDesc("platform_db_pool_canceled_acquires_total",
		"Acquires canceled while waiting (request gone, or the DB_POOL_TIMEOUT cap → 503).", nil, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolAcquires, poolAcquireWait, poolEmpty, poolEmptyWait, poolCanceled} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	gauge := func(v int32, state string) {
		ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(v), state)
	}
	gauge(s.AcquiredConns(), "acquired")
	gauge(s.IdleConns(), "idle")
	gauge(s.ConstructingConns(), "constructing")
	gauge(s.MaxConns(), "max")
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolAcquireWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(poolEmpty, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolEmptyWait, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds())
	ch <- prometheus.MustNewConstMetric(poolCanceled, prometheus.CounterValue, float64(s.CanceledAcquireCount()))
}

// BcryptCollectors expose the bcrypt queue: operations holding a place
// (waiting or hashing) and the slot count they share.
func BcryptCollectors(pending func() int64, slots int) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "platform_bcrypt_queue_depth",
			Help: "bcrypt operations waiting for or holding a slot.",
		}, func() float64 { return float64(pending()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "platform_bcrypt_slots",
			Help: "Concurrent bcrypt operations allowed (LOGIN_CONCURRENCY).",
		}, func() float64 { return float64(slots) }),
	}
}
