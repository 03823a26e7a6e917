//! The real broker's side of a case: publish with publisher confirms, consume with
//! `basic.qos` and `basic.ack` (or auto-ack), crash for real at the plan's points by closing
//! the connection without acking, and count what the applications saw.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_lite::StreamExt as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

use dsim_core::CrashPoint;

use crate::observed::Observed;
use crate::simulated::{Crash, Plan};

/// How long a consumer waits for one more delivery before it counts the queue drained.
const IDLE: Duration = Duration::from_millis(400);
/// Before a crash: time for every delivery the broker sent before it learns of the close to
/// reach the client, so the run counts what the broker sent (the refill for the last
/// `basic.ack` included). No `basic.ack` is sent meanwhile, so the broker's unacknowledged
/// set, which the close requeues, is what it would be at an instant crash.
const SETTLE: Duration = Duration::from_millis(300);
/// The simulator's default `restart-ms`: the crashed consumer is back after it, by which
/// time the broker has requeued what its closed channel held.
const RESTART: Duration = Duration::from_millis(100);
/// No case may take longer.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a run does to an error: one line.
type Result<T> = std::result::Result<T, String>;

fn err(what: &str) -> impl Fn(lapin::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Runs the plan against the broker at `url`, on queues named after `tag`.
pub async fn run(url: &str, plan: &Plan, tag: &str) -> Result<Observed> {
    match tokio::time::timeout(CASE_TIMEOUT, run_inner(url, plan, tag)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the real run took more than {} s",
            CASE_TIMEOUT.as_secs()
        )),
    }
}

/// The consumer application's state, which outlives its connections: the ledger (how often
/// each payment was applied) and, for the idempotent consumer, the IDs it recorded with them.
#[derive(Default)]
struct App {
    applied: BTreeMap<u32, u32>,
    dedup_skips: u64,
    delivered: u64,
    redelivery_order: Vec<u32>,
}

impl App {
    fn received(&mut self, msg: u32, redelivered: bool) {
        self.delivered += 1;
        if redelivered {
            self.redelivery_order.push(msg);
        }
    }
}

async fn run_inner(url: &str, plan: &Plan, tag: &str) -> Result<Observed> {
    let queue = format!("dsim-validate.{tag}");
    let dlx = format!("dsim-validate.{tag}.dlx");
    let dead_queue = format!("dsim-validate.{tag}.dead");
    let admin = Connection::connect(url, ConnectionProperties::default())
        .await
        .map_err(err("connect"))?;
    let ch = admin.create_channel().await.map_err(err("channel"))?;
    declare(&ch, plan, &queue, &dlx, &dead_queue).await?;

    let republished = publish(&ch, plan, &queue).await?;

    let mut app = App::default();
    for crash in &plan.crashes {
        session(url, plan, &queue, &mut app, Some(*crash)).await?;
        tokio::time::sleep(RESTART).await;
    }
    session(url, plan, &queue, &mut app, None).await?;

    let left = ready(&ch, &queue).await?;
    if left > 0 {
        return Err(format!(
            "{left} messages still ready after the last consumer"
        ));
    }
    let dead_letter_ids = if plan.quorum {
        read_dead_letters(&ch, &dead_queue).await?
    } else {
        Vec::new()
    };

    for q in [&queue, &dead_queue] {
        let _ = ch
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = ch
        .exchange_delete(dlx.as_str().into(), Default::default())
        .await;
    let _ = admin.close(200, "done".into()).await;

    let distinct = app.applied.len() as u64;
    let applications: u64 = app.applied.values().map(|&n| n as u64).sum();
    let dead = dead_letter_ids.len() as u64;
    // Never applied and not dead-lettered (the simulator reports dead-lettered apart too).
    let lost = (0..plan.messages)
        .filter(|m| !app.applied.contains_key(m) && !dead_letter_ids.contains(m))
        .count() as u64;
    Ok(Observed {
        delivered: app.delivered,
        redelivered: app.redelivery_order.len() as u64,
        duplicates: applications - distinct,
        lost,
        dead_lettered: dead,
        dedup_skips: app.dedup_skips,
        republished,
        redelivery_order: app.redelivery_order,
        dead_letter_ids,
    })
}

/// The queue, fresh: a classic queue, or a quorum queue with `x-delivery-limit` dead-lettering
/// to a fanout exchange and its queue.
async fn declare(ch: &Channel, plan: &Plan, queue: &str, dlx: &str, dead: &str) -> Result<()> {
    for q in [queue, dead] {
        let _ = ch
            .queue_delete(q.into(), QueueDeleteOptions::default())
            .await;
    }
    let mut args = FieldTable::default();
    if plan.quorum {
        ch.exchange_declare(
            dlx.into(),
            ExchangeKind::Fanout,
            ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(err("exchange.declare"))?;
        ch.queue_declare(
            dead.into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(err("queue.declare dead letters"))?;
        ch.queue_bind(
            dead.into(),
            dlx.into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(err("queue.bind"))?;
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(dlx.into()),
        );
        if plan.delivery_limit > 0 {
            args.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongInt(plan.delivery_limit as i32),
            );
        }
    }
    ch.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            // A quorum queue is always durable.
            durable: true,
            ..QueueDeclareOptions::default()
        },
        args,
    )
    .await
    .map_err(err("queue.declare"))?;
    Ok(())
}

/// Publishes every payment with publisher confirms, in order on one channel. A confirm the
/// plan drops is treated as never arrived: the client republishes, as any at-least-once
/// producer must, and the queue gets a second copy (RabbitMQ has no idempotent producer).
/// Returns the number of republishes.
async fn publish(ch: &Channel, plan: &Plan, queue: &str) -> Result<u64> {
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(err("confirm.select"))?;
    let mut rng = SplitMix(0x5eed_0000 ^ plan.messages as u64);
    let mut round: Vec<(u32, u32)> = (0..plan.messages).map(|m| (m, 1)).collect();
    let mut republished = 0;
    while !round.is_empty() {
        let mut confirms = Vec::with_capacity(round.len());
        for &(msg, attempt) in &round {
            let confirm = ch
                .basic_publish(
                    "".into(),
                    queue.into(),
                    BasicPublishOptions::default(),
                    msg.to_string().as_bytes(),
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .map_err(err("basic.publish"))?;
            confirms.push((msg, attempt, confirm));
        }
        let mut next = Vec::new();
        for (msg, attempt, confirm) in confirms {
            let confirmation = confirm.await.map_err(err("publisher confirm"))?;
            if !confirmation.is_ack() {
                return Err(format!("the broker nacked message {msg}"));
            }
            let drop = if plan.confirm_drop_rate > 0.0 {
                rng.chance(plan.confirm_drop_rate)
            } else {
                plan.dropped_confirms.contains(&(msg, attempt))
            };
            if drop {
                republished += 1;
                next.push((msg, attempt + 1));
            }
        }
        round = next;
    }
    Ok(republished)
}

/// One consumer connection: takes deliveries one at a time, applies each payment, acks it
/// (manual ack), and either runs until the queue stays empty or crashes where `crash` says.
async fn session(
    url: &str,
    plan: &Plan,
    queue: &str,
    app: &mut App,
    crash: Option<Crash>,
) -> Result<()> {
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .map_err(err("connect"))?;
    let ch = conn.create_channel().await.map_err(err("channel"))?;
    ch.basic_qos(plan.prefetch, BasicQosOptions::default())
        .await
        .map_err(err("basic.qos"))?;
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "dsim-validate".into(),
            BasicConsumeOptions {
                no_ack: plan.auto_ack,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(err("basic.consume"))?;
    let mut handled = 0u32;
    loop {
        let wait = if crash.is_some() {
            Duration::from_secs(5)
        } else {
            IDLE
        };
        let delivery = match tokio::time::timeout(wait, consumer.next()).await {
            Ok(Some(d)) => d.map_err(err("delivery"))?,
            Ok(None) => return Err("the broker cancelled the consumer".into()),
            // Quiet is not empty on a loaded machine: only the broker can say.
            Err(_) if crash.is_none() && ready(&ch, queue).await? == 0 => break,
            Err(_) if crash.is_none() => continue,
            Err(_) => {
                return Err(format!(
                    "no delivery for 5 s before the crash point ({handled} handled)"
                ));
            }
        };
        let msg = payment(&delivery.data)?;
        app.received(msg, delivery.redelivered);
        if let Some(c) = crash
            && c.point == CrashPoint::BeforeProcessing
            && handled == c.handled
        {
            return crash_now(conn, &mut consumer, app).await;
        }
        // The idempotent consumer writes the payment and its ID in one local transaction,
        // under a unique constraint: a second copy finds the ID and applies nothing.
        if plan.idempotent && app.applied.contains_key(&msg) {
            app.dedup_skips += 1;
        } else {
            *app.applied.entry(msg).or_default() += 1;
        }
        handled += 1;
        if let Some(c) = crash
            && c.point == CrashPoint::AfterProcessing
            && handled == c.handled
        {
            return crash_now(conn, &mut consumer, app).await;
        }
        if !plan.auto_ack {
            delivery
                .ack(BasicAckOptions::default())
                .await
                .map_err(err("basic.ack"))?;
        }
    }
    conn.close(200, "done".into())
        .await
        .map_err(err("connection.close"))?;
    Ok(())
}

/// The consumer dies: what the broker already sent lands in the client's buffer and goes
/// with the process, and the connection closes with no further `basic.ack`. The broker
/// requeues every unacknowledged delivery of the channel; with auto-ack there are none, and
/// the buffer is simply gone.
async fn crash_now(conn: Connection, consumer: &mut lapin::Consumer, app: &mut App) -> Result<()> {
    tokio::time::sleep(SETTLE).await;
    while let Ok(Some(d)) = tokio::time::timeout(Duration::from_millis(50), consumer.next()).await {
        let d = d.map_err(err("delivery"))?;
        app.received(payment(&d.data)?, d.redelivered);
    }
    conn.close(320, "consumer crashed".into())
        .await
        .map_err(err("connection.close"))
}

/// Messages ready in the queue (`queue.declare` with `passive`), unacknowledged ones aside.
async fn ready(ch: &Channel, queue: &str) -> Result<u32> {
    Ok(ch
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(err("queue.declare passive"))?
        .message_count())
}

/// Everything the quorum queue dead-lettered, by message number in the order it arrived.
/// Dead-lettering is asynchronous in a quorum queue: wait until the count stops moving.
async fn read_dead_letters(ch: &Channel, dead: &str) -> Result<Vec<u32>> {
    let mut ids = Vec::new();
    let mut quiet = 0;
    while quiet < 3 {
        match ch
            .basic_get(dead.into(), BasicGetOptions { no_ack: true })
            .await
            .map_err(err("basic.get"))?
        {
            Some(m) => {
                ids.push(payment(&m.delivery.data)?);
                quiet = 0;
            }
            None => {
                quiet += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    Ok(ids)
}

fn payment(body: &[u8]) -> Result<u32> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("a message that is not ours: {body:?}"))
}

/// A small seeded generator for the client's own confirm drops (splitmix64).
struct SplitMix(u64);

impl SplitMix {
    fn chance(&mut self, p: f64) -> bool {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}
