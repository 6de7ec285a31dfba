// Jest config for tools/capture-sql/run.sh: the package's projects, each with capture.cjs as a setup file.
const path = require('node:path');
const root = process.env.ROOT;
const pkg = require(path.join(root, 'package.json'));
const setup = path.join(__dirname, 'capture.cjs');
const projects = pkg.jest.projects.map((p) => ({
  ...p,
  rootDir: root,
  setupFiles: [...(p.setupFiles ?? []), setup],
}));
module.exports = { ...pkg.jest, rootDir: root, projects };
