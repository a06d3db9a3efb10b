import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';
import {Circle, Star} from '@remotion/shapes';

export const Orbit: React.FC = () => {
  const frame = useCurrentFrame();
  const angle = interpolate(frame, [0, 45], [0, Math.PI * 2]);
  const scale = interpolate(frame, [0, 15], [0.4, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{justifyContent: 'center', alignItems: 'center', backgroundColor: '#f7b733'}}>
      <div style={{transform: `scale(${scale})`}}>
        <Circle radius={110} fill="#0b1020" />
      </div>
      <div style={{position: 'absolute', transform: `translate(${Math.cos(angle) * 220}px, ${Math.sin(angle) * 220}px) rotate(${angle}rad)`}}>
        <Star points={5} innerRadius={28} outerRadius={60} fill="#fc4a1a" />
      </div>
    </AbsoluteFill>
  );
};
