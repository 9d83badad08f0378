// An outside system on LayerCake's bus, written from the published documents only: the
// README (read-only credentials), docs/asyncapi.json (subjects, headers, the stream) and
// contracts/schemas/ (one JSON Schema per event type).
//
// It creates its own durable consumer on LC_EVENTS, reads every event until it has seen
// the release (`--until`, PushCompleted by default) or is told to stop (SIGTERM, SIGINT),
// checks each one against its type's schema and the AsyncAPI's headers and address, then
// rebuilds the chain of causes of the first commit back to a person's approval.
// Exit 0 only with no failure, at least one event and a complete chain.
//
//   node consumer.mjs --server nats://127.0.0.1:4223 --seed SEED_FILE --name NAME \
//     --schemas contracts/schemas --asyncapi docs/asyncapi.json

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { AckPolicy, DeliverPolicy, connect, nkeyAuthenticator } from "nats";

const STREAM = "LC_EVENTS"; // the stream the AsyncAPI's info names
const EVENTS = "lc.evt.>";
const COMMIT = "CommitCreated";
const APPROVAL = "GateApproved";

const { values: options } = parseArgs({
  options: {
    server: { type: "string" },
    seed: { type: "string" },
    name: { type: "string" },
    schemas: { type: "string" },
    asyncapi: { type: "string" },
    until: { type: "string", default: "PushCompleted" },
  },
});
for (const required of ["server", "seed", "name", "schemas", "asyncapi"]) {
  if (!options[required]) {
    console.error(`missing --${required}`);
    process.exit(2);
  }
}

// Text from the bus (model-written, or forged) is shown escaped, on one line.
const shown = (value) => JSON.stringify(String(value)).slice(1, -1);

function payloadValidators(folder, ajv) {
  const validators = new Map();
  for (const file of readdirSync(folder).filter((f) => f.endsWith(".json"))) {
    const schema = JSON.parse(readFileSync(join(folder, file), "utf8"));
    validators.set(file.slice(0, -".json".length), ajv.compile(schema));
  }
  if (validators.size === 0) {
    throw new Error(`no JSON Schema (*.json) in ${folder}`);
  }
  return validators;
}

function headerValidators(document, ajv) {
  const validators = new Map();
  for (const [name, message] of Object.entries(document.components.messages)) {
    if (message.headers) validators.set(name, ajv.compile(message.headers));
  }
  return validators;
}

function headersOf(message) {
  const found = {};
  for (const key of message.headers ? message.headers.keys() : []) {
    found[key] = message.headers.get(key);
  }
  return found;
}

const described = (errors) =>
  errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");

// What is wrong with one delivered message, as a list of sentences (empty: nothing).
function problemsOf(message, event, checks) {
  const type = event?.type;
  const payload = checks.payloads.get(type);
  if (payload === undefined) return [`no schema for type "${shown(type)}"`];
  const problems = [];
  if (!payload(event)) problems.push(`payload: ${described(payload.errors)}`);
  const headers = headersOf(message);
  const header = checks.headers.get(type);
  if (header && !header(headers)) problems.push(`headers: ${described(header.errors)}`);
  if (headers["Nats-Msg-Id"] !== event.event_id) {
    problems.push(`Nats-Msg-Id ${shown(headers["Nats-Msg-Id"])} is not the event_id`);
  }
  const address = `lc.evt.${event.project_id}.${type}`;
  if (message.subject !== address) {
    problems.push(`subject ${shown(message.subject)} is not ${address}`);
  }
  return problems;
}

function decode(message) {
  try {
    return JSON.parse(new TextDecoder().decode(message.data));
  } catch (error) {
    return { undecodable: error.message };
  }
}

// The commit's causes, first the commit: each event's causation_id is an event_id seen,
// back to a GateApproved. `end` says where and why the walk stopped.
function chainOf(commit, byId) {
  const chain = [commit];
  for (let event = commit; event.type !== APPROVAL; ) {
    const cause = event.causation_id;
    if (cause == null) return { chain, end: `${event.type} names no cause` };
    if (!byId.has(cause)) return { chain, end: `the cause ${shown(cause)} was never seen` };
    if (chain.includes(byId.get(cause))) return { chain, end: "the causes go round in a loop" };
    event = byId.get(cause);
    chain.push(event);
  }
  return { chain, end: null };
}

function line(event) {
  const who = event.by === undefined ? "" : ` by ${shown(event.by)}`;
  const gate = event.gate === undefined ? "" : ` ${shown(event.gate)}`;
  return `${shown(event.type)}${gate} ${shown(event.event_id)} from ${shown(event.producer)}${who}`;
}

async function follow(nc, checks) {
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(STREAM, {
    durable_name: options.name,
    filter_subject: EVENTS,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  console.log(`ready: durable consumer ${options.name} on ${STREAM}, filter ${EVENTS}`);
  const messages = await (await nc.jetstream().consumers.get(STREAM, options.name)).consume();
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => messages.stop());
  const seen = [];
  let failures = 0;
  for await (const message of messages) {
    const event = decode(message);
    const problems = event.undecodable ? [`not JSON: ${event.undecodable}`] : problemsOf(message, event, checks);
    if (problems.length > 0) {
      failures += 1;
      console.log(`FAIL #${message.seq} ${shown(message.subject)}: ${shown(problems.join(" | "))}`);
    }
    seen.push(event);
    message.ack();
    if (event.type === options.until) messages.stop();
  }
  return { seen, failures };
}

async function main() {
  const ajv = new Ajv2020({ allErrors: true });
  addFormats(ajv);
  const document = JSON.parse(readFileSync(options.asyncapi, "utf8"));
  const checks = {
    payloads: payloadValidators(options.schemas, ajv),
    headers: headerValidators(document, ajv),
  };
  const seed = readFileSync(options.seed, "utf8").trim();
  const nc = await connect({
    servers: options.server,
    name: options.name,
    authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)),
    inboxPrefix: `_INBOX_${options.name}`,
  });
  const { seen, failures } = await follow(nc, checks);
  await nc.drain();

  const types = new Set(seen.map((e) => e.type));
  console.log(`events: ${seen.length} (${types.size} types)`);
  console.log(`schema failures: ${failures}`);
  const commit = seen.find((e) => e.type === COMMIT);
  let complete = false;
  if (commit === undefined) {
    console.log(`chain: no ${COMMIT} seen`);
  } else {
    const { chain, end } = chainOf(commit, new Map(seen.map((e) => [e.event_id, e])));
    console.log(`chain of causes of the first commit, ${shown(commit.sha)}:`);
    for (const event of chain) console.log(`  ${line(event)}`);
    complete = end === null;
    console.log(complete ? `chain: complete, ${chain.length} events` : `chain: broken: ${end}`);
  }
  return failures === 0 && seen.length > 0 && complete ? 0 : 1;
}

process.exitCode = await main().catch((error) => {
  console.error(`consumer failed: ${error.message}`);
  return 2;
});
