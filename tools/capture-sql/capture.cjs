// Jest setup file and --require preload of tools/capture-sql/run.sh: appends each distinct SQL text
// the drivers receive to $SQL_CAPTURE.<pid> (engine, tab, text).
const fs = require('node:fs');
const out = process.env.SQL_CAPTURE;
if (out) {
  const file = `${out}.${process.pid}`;
  const seen = new Set();
  const req = (name) => require(require.resolve(name, { paths: [process.cwd()] }));
  const note = (engine, sql) => {
    if (typeof sql !== 'string') sql = sql && (sql.text ?? sql.sql);
    if (typeof sql !== 'string') return;
    const key = `${engine}\t${sql.replace(/\s+/g, ' ')}`;
    if (seen.has(key)) return;
    seen.add(key);
    fs.appendFileSync(file, key + '\n');
  };
  try {
    const pg = req('pg');
    const q = pg.Client.prototype.query;
    pg.Client.prototype.query = function (config, ...rest) { note('postgres', config); return q.call(this, config, ...rest); };
  } catch (e) { fs.appendFileSync(file, 'ERR ' + e.message.split('\n')[0] + '\n'); }
  try {
    const Sqlite = req('better-sqlite3');
    const p = Sqlite.prototype.prepare;
    Sqlite.prototype.prepare = function (sql, ...rest) { note('sqlite', sql); return p.call(this, sql, ...rest); };
    const e = Sqlite.prototype.exec;
    Sqlite.prototype.exec = function (sql, ...rest) { note('sqlite', sql); return e.call(this, sql, ...rest); };
  } catch (e) { fs.appendFileSync(file, 'ERR ' + e.message.split('\n')[0] + '\n'); }
  try {
    const mysql = req('mysql2');
    const path = require('node:path');
    const base = require(path.join(path.dirname(require.resolve('mysql2', { paths: [process.cwd()] })), 'lib/base/connection.js'));
    for (const C of [base]) {
      for (const m of ['query', 'execute']) {
        const f = C.prototype[m];
        if (f) C.prototype[m] = function (sql, ...rest) { note('mysql', sql); return f.call(this, sql, ...rest); };
      }
    }
  } catch (e) { fs.appendFileSync(file, 'ERR mysql ' + e.message + '\n'); }
}
