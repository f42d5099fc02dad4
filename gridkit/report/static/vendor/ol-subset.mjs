// The part of OpenLayers 10.11.0 the report map uses, bundled as the global `ol` (see
// gridkit/report/README.md for the build command). Names as in the full build's `ol` global.
import Feature from 'ol/Feature.js';
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import Zoom from 'ol/control/Zoom.js';
import ZoomToExtent from 'ol/control/ZoomToExtent.js';
import { buffer, getCenter } from 'ol/extent.js';
import GeometryCollection from 'ol/geom/GeometryCollection.js';
import MultiLineString from 'ol/geom/MultiLineString.js';
import MultiPoint from 'ol/geom/MultiPoint.js';
import MultiPolygon from 'ol/geom/MultiPolygon.js';
import Polygon from 'ol/geom/Polygon.js';
import ImageLayer from 'ol/layer/Image.js';
import VectorLayer from 'ol/layer/Vector.js';
import Projection from 'ol/proj/Projection.js';
import ImageCanvasSource from 'ol/source/ImageCanvas.js';
import VectorSource from 'ol/source/Vector.js';
import Circle from 'ol/style/Circle.js';
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Style from 'ol/style/Style.js';
import Text from 'ol/style/Text.js';

export {
  Feature, Map, View,
};
export const control = { ScaleLine, Zoom, ZoomToExtent };
export const extent = { buffer, getCenter };
export const geom = { GeometryCollection, MultiLineString, MultiPoint, MultiPolygon, Polygon };
export const layer = { Image: ImageLayer, Vector: VectorLayer };
export const proj = { Projection };
export const source = { ImageCanvas: ImageCanvasSource, Vector: VectorSource };
export const style = { Circle, Fill, Stroke, Style, Text };
