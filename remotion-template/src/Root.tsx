import React from 'react';
import {Composition} from 'remotion';
import type {CalculateMetadataFunction} from 'remotion';

// The compositions of a set of videos: each folder src/videos/<name>/ with an index.tsx is a
// video, the folder name its composition id. Each video is loaded lazily, in its own chunk, so
// one broken video never stops another from showing or rendering. vidgen owns this file.
type VideoModule = {
  default: React.ComponentType<Record<string, unknown>>;
  config: {durationInFrames: number; fps: number; width: number; height: number};
};

export const makeRoot = (videos: WebpackContext): React.FC => {
  const entries = videos
    .keys()
    .filter((key) => key.startsWith('./'))
    .map((key) => {
      const id = key.split('/')[1];
      const load = () => videos(key) as Promise<VideoModule>;
      const calculateMetadata: CalculateMetadataFunction<Record<string, unknown>> = async () => {
        const {config} = await load();
        if (!config) {
          throw new Error(`src/videos/${id}/index.tsx must export const config = {durationInFrames, fps, width, height}`);
        }
        return config;
      };
      return {id, load, calculateMetadata};
    });

  const Root: React.FC = () => (
    <>
      {entries.map(({id, load, calculateMetadata}) => (
        <Composition
          key={id}
          id={id}
          lazyComponent={load}
          calculateMetadata={calculateMetadata}
          durationInFrames={1}
          fps={30}
          width={1280}
          height={720}
        />
      ))}
    </>
  );
  return Root;
};
