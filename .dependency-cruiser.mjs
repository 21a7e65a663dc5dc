// Dependencies point down only (shared/STYLE.md, "A layout that fits this service"): a folder
// imports only folders below it, so a feature can be read, tested and moved with what it
// stands on and nothing above it. Ranks, bottom first; folders of one rank are peers and do
// not import each other. Paths that do not exist yet match nothing.
const RANKS = [
  ['infra'], // config, redis, db, metrics, http, logging, health: no business rules
  // Below the accounts and credentials, so their stores write an event or queue a mail inside
  // their own PostgreSQL transaction (STYLE.md placed them above the credentials).
  ['events', 'mail'],
  ['users'],
  ['credentials'],
  ['auth'], // the request gate
  ['login'],
  ['oauth', 'account', 'ops'], // ops: /health and /metrics, routes behind the gate
  ['admin'],
  ['web'],
];
const ROOT = '^src/(main|app\\.module|app\\.setup)\\.ts$';

const upward = RANKS.flatMap((folders, rank) =>
  folders.map((folder) => {
    const above = RANKS.slice(rank)
      .flat()
      .filter((f) => f !== folder);
    return {
      name: `no-upward-from-${folder}`,
      comment: `src/${folder}/ may import only the folders ranked below it`,
      severity: 'error',
      from: { path: `^src/${folder}/` },
      to: { path: [`^src/(${above.join('|')})/`, ROOT] },
    };
  }),
);

export default {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment:
        'A cycle makes two modules one: neither can be loaded, tested or moved alone',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-test-code-in-src',
      comment:
        'What ships is src/ less its specs (tsconfig.build.json): test/ and bench/ are not in it',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import it cannot resolve would escape every rule above',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-orphans',
      comment:
        'A module nothing imports and that imports nothing is dead or misplaced (knip fails on it)',
      severity: 'warn',
      from: { orphan: true, path: '^src/', pathNot: '\\.d\\.ts$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
