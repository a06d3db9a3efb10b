// The entry of vidgen's own render service: every video, checked or not, so a failing one can be
// checked again (its errors are its own: the service bundles on when one video breaks).
import {registerRoot} from 'remotion';
import {makeRoot} from './Root';

registerRoot(makeRoot(require.context('./videos', true, /^\.\/[a-z0-9][a-z0-9-]*\/index\.tsx$/, 'lazy')));
