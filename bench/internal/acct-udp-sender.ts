/**
 * The NAS side of `bench/acct-udp.ts`, in its own process: encodes every Accounting-Request first
 * (the `radius` package, signed with the shared secret), then on "go" sends them over SOCKETS UDP
 * sockets, each with at most 256 requests in flight (one per RADIUS identifier, reused only once
 * answered), and reports to its parent how many were answered, how long it took and its CPU while sending.
 * A request not answered within 3 s is sent again, as a NAS would.
 *
 * argv: port secret sessions rounds
 */
import * as Dgram from "node:dgram"
import radius from "radius"
import { fieldsOf } from "./AccountingBench.js"

const [port, secret, sessionsArg, roundsArg] = process.argv.slice(2)
const SESSIONS = Number(sessionsArg)
const ROUNDS = Number(roundsArg)
const SOCKETS = 16
const RETRY_MS = 3_000

// Packet j = round * SESSIONS + session goes out on socket j % SOCKETS with identifier
// floor(j / SOCKETS) % 256: each socket sends its packets in order, so identifiers cycle.
const total = SESSIONS * ROUNDS
const packets: Array<Buffer> = new Array(total)
for (let j = 0; j < total; j++) {
  const f = fieldsOf(j % SESSIONS, Math.floor(j / SESSIONS))
  packets[j] = radius.encode({
    code: "Accounting-Request",
    secret: secret!,
    identifier: Math.floor(j / SOCKETS) % 256,
    attributes: [
      ["Acct-Status-Type", f.statusType],
      ["User-Name", f.userName],
      ["Acct-Session-Id", f.acctSessionId],
      ["NAS-IP-Address", f.nasIpAddress],
      ["NAS-Port", f.nasPort],
      ["Acct-Input-Octets", f.inputOctets],
      ["Acct-Input-Gigawords", f.inputGigawords],
      ["Acct-Output-Octets", f.outputOctets],
      ["Acct-Session-Time", f.sessionTime],
      ["Event-Timestamp", new Date(f.eventMillis)]
    ]
  })
}

interface Lane {
  readonly socket: Dgram.Socket
  next: number // index into this lane's packets
  readonly inFlight: Array<number | null> // identifier -> packet index
  readonly sentAt: Array<number>
}

let answered = 0
let retransmits = 0
let t0 = 0
let cpuAtGo: NodeJS.CpuUsage | undefined
const lanes: Array<Lane> = []

const finish = () => {
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpuAtGo)
  process.send!({ answered, retransmits, seconds, cpuMicros: cpu.user + cpu.system })
  for (const lane of lanes) lane.socket.close()
}

const pump = (lane: Lane, laneIndex: number) => {
  for (;;) {
    const j = laneIndex + lane.next * SOCKETS
    if (j >= total) return
    const id = Math.floor(j / SOCKETS) % 256
    if (lane.inFlight[id] !== null) return // the identifier is still waiting for its answer
    lane.inFlight[id] = j
    lane.sentAt[id] = performance.now()
    lane.next++
    lane.socket.send(packets[j]!, Number(port), "127.0.0.1")
  }
}

for (let s = 0; s < SOCKETS; s++) {
  const socket = Dgram.createSocket({ type: "udp4", recvBufferSize: 4 * 1024 * 1024 })
  const lane: Lane = { socket, next: 0, inFlight: new Array(256).fill(null), sentAt: new Array(256).fill(0) }
  socket.on("message", (msg) => {
    const id = msg[1]!
    if (msg[0] !== 5 || lane.inFlight[id] === null) return // not an Accounting-Response we wait for
    lane.inFlight[id] = null
    if (++answered === total) finish()
    else pump(lane, s)
  })
  lanes.push(lane)
}

const retry = setInterval(() => {
  const now = performance.now()
  lanes.forEach((lane) => {
    lane.inFlight.forEach((j, id) => {
      if (j !== null && now - lane.sentAt[id]! > RETRY_MS) {
        lane.sentAt[id] = now
        retransmits++
        lane.socket.send(packets[j]!, Number(port), "127.0.0.1")
      }
    })
  })
  if (answered === total) clearInterval(retry)
}, 500)

process.on("message", (m) => {
  if (m !== "go") return
  t0 = performance.now()
  cpuAtGo = process.cpuUsage()
  lanes.forEach(pump)
})
Promise.all(lanes.map((l) => new Promise<void>((r) => l.socket.bind(0, "127.0.0.1", () => r())))).then(() => process.send!("ready"))
