// webpack's require.context, used by Root.tsx to find the videos.
interface WebpackContext {
  keys(): string[];
  (id: string): unknown;
}
declare const require: {
  context(directory: string, useSubdirectories: boolean, regExp: RegExp, mode?: 'sync' | 'lazy'): WebpackContext;
};
