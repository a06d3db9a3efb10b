import React from 'react';
import {AbsoluteFill, interpolate, spring, useCurrentFrame, useVideoConfig} from 'remotion';
import {loadFont} from '@remotion/fonts';
import interBold from '@fontsource/inter/files/inter-latin-800-normal.woff2';

loadFont({family: 'Inter', url: interBold, weight: '800'});

export const Title: React.FC = () => {
  const frame = useCurrentFrame();
  const {fps} = useVideoConfig();
  const rise = spring({frame, fps, config: {damping: 200}});
  const underline = interpolate(frame, [10, 35], [0, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{justifyContent: 'center', alignItems: 'center', background: 'linear-gradient(135deg, #0b1020, #1d2b64)'}}>
      <div
        style={{
          fontFamily: 'Inter',
          fontWeight: 800,
          fontSize: 120,
          color: 'white',
          transform: `translateY(${(1 - rise) * 80}px)`,
          opacity: rise,
        }}
      >
        vidgen
      </div>
      <div style={{height: 10, width: 520 * underline, background: '#f7b733', borderRadius: 5}} />
    </AbsoluteFill>
  );
};
