import { Cluster, Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../harness/free-port.mjs';
import { RedisProcess } from './redis-process.js';
import { waitUntil } from './waiting.js';

const execFileAsync = promisify(execFile);

/** `count` different free ports. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/**
 * A throwaway Redis Cluster of `masters` masters and no replicas: one `redis-server` child
 * process per node (RedisProcess, so the exit backstop there kills them too), each with its
 * own client port and cluster bus port, joined with `redis-cli --cluster create`.
 */
export class RedisCluster {
  private readonly nodeClients = new Map<number, Redis>();
  private readonly clients: (Redis | Cluster)[] = [];

  private constructor(
    readonly nodes: RedisProcess[],
    private readonly dir: string,
  ) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
    const removeDir = () => rmSync(dir, { recursive: true, force: true });
    // Last resort, like the one for the processes: no node files left behind by a dead run.
    process.once('exit', removeDir);
    const nodes: RedisProcess[] = [];
    try {
      const ports = await distinctFreePorts(masters * 2);
      for (let i = 0; i < masters; i++) {
        const [port, busPort] = [ports[2 * i], ports[2 * i + 1]];
        nodes.push(
          await RedisProcess.start(port, [
            '--cluster-enabled',
            'yes',
            // An explicit bus port: the default, port + 10000, may be taken or past 65535.
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--dir',
            dir,
          ]),
        );
      }
      await execFileAsync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      );
      const cluster = new RedisCluster(nodes, dir);
      await cluster.waitUntilOk();
      return cluster;
    } catch (err) {
      await Promise.all(nodes.map((n) => n.kill()));
      removeDir();
      throw err;
    }
  }

  /** The REDIS_CLUSTER_NODES value naming every node. */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  /** A plain (non-cluster) client on node `i`, for commands about that node alone. */
  node(i: number): Redis {
    let client = this.nodeClients.get(i);
    if (!client) {
      client = new Redis({
        host: '127.0.0.1',
        port: this.nodes[i].port,
        maxRetriesPerRequest: 1,
      });
      this.nodeClients.set(i, client);
      this.clients.push(client);
    }
    return client;
  }

  /** A cluster client for inspecting keys wherever they live; disconnected by stop(). */
  client(): Cluster {
    const cluster = new Cluster(
      this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    );
    this.clients.push(cluster);
    return cluster;
  }

  /** Waits until every node reports `cluster_state:ok` and knows every other node. */
  async waitUntilOk(timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      async () => {
        const infos = await Promise.all(
          this.nodes.map((_, i) => this.node(i).cluster('INFO')),
        );
        return infos.every(
          (info) =>
            info.includes('cluster_state:ok') &&
            info.includes(`cluster_known_nodes:${this.nodes.length}`),
        );
      },
      'Redis Cluster to become ok on every node',
      timeoutMs,
    );
  }

  /** Index (into `nodes`) of the node that serves `key`'s hash slot. */
  async nodeOfKey(key: string): Promise<number> {
    const probe = this.node(0);
    const slot = await probe.cluster('KEYSLOT', key);
    const ranges = await probe.cluster('SLOTS');
    const owner = ranges.find(([from, to]) => slot >= from && slot <= to);
    const port = owner?.[2]?.[1];
    if (port === undefined) throw new Error(`no node serves slot ${slot}`);
    return this.nodes.findIndex((n) => n.port === port);
  }

  /** Number of keys on each node (DBSIZE), in `nodes` order. */
  async keysPerNode(): Promise<number[]> {
    return Promise.all(this.nodes.map((_, i) => this.node(i).dbsize()));
  }

  /** Disconnects the helper's clients and kills every node. */
  async stop(): Promise<void> {
    for (const client of this.clients.splice(0)) client.disconnect();
    this.nodeClients.clear();
    await Promise.all(this.nodes.map((n) => n.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
