import { join } from 'node:path';

/**
 * The CLI's entry file (main.js next to this one), to tell being run from being imported. A
 * CommonJS file in both builds so that it can use `__dirname`: the package's CommonJS build
 * cannot contain `import.meta`.
 */
export const CLI_MAIN_FILE = join(__dirname, 'main.js');
