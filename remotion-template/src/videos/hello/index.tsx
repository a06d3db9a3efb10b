import React from 'react';
import {AbsoluteFill} from 'remotion';
import {linearTiming, springTiming, TransitionSeries} from '@remotion/transitions';
import {fade} from '@remotion/transitions/fade';
import {slide} from '@remotion/transitions/slide';
import {Title} from './Title';
import {Orbit} from './Orbit';

export const config = {
  durationInFrames: 90,
  fps: 30,
  width: 1280,
  height: 720,
};

// Two scenes joined by a slide, ending on a fade: text, a shape, a transition.
const Hello: React.FC = () => (
  <AbsoluteFill style={{backgroundColor: '#0b1020'}}>
    <TransitionSeries>
      <TransitionSeries.Sequence durationInFrames={50}>
        <Title />
      </TransitionSeries.Sequence>
      <TransitionSeries.Transition presentation={slide({direction: 'from-right'})} timing={springTiming({durationInFrames: 15})} />
      <TransitionSeries.Sequence durationInFrames={45}>
        <Orbit />
      </TransitionSeries.Sequence>
      <TransitionSeries.Transition presentation={fade()} timing={linearTiming({durationInFrames: 10})} />
      <TransitionSeries.Sequence durationInFrames={20}>
        <AbsoluteFill style={{backgroundColor: '#0b1020'}} />
      </TransitionSeries.Sequence>
    </TransitionSeries>
  </AbsoluteFill>
);

export default Hello;
