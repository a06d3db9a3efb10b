// webpack's require.context, used by index.ts, every-video.ts and registered.ts to find the videos.
interface WebpackContext {
  keys(): string[];
  (id: string): unknown;
}
declare const require: {
  context(directory: string, useSubdirectories: boolean, regExp: RegExp, mode?: 'sync' | 'lazy'): WebpackContext;
};
