package layers

import "testing"

func TestEPSGFromWKT(t *testing.T) {
	tests := []struct {
		name string
		wkt  string
		code int // 0: not known
		crs  string
	}{
		{"ESRICM", `PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, 4549, "CGCS2000_3_Degree_GK_CM_120E"},
		{"ESRIZone", `PROJCS["CGCS2000_3_Degree_GK_Zone_40",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000"]]`, 4528, ""},
		{"ESRIFirstZone", `PROJCS["CGCS2000_3_Degree_GK_Zone_25",GEOGCS["x"]]`, 4513, ""},
		{"ESRILastCM", `PROJCS["CGCS2000_3_Degree_GK_CM_135E",GEOGCS["x"]]`, 4554, ""},
		{"EPSGName", `PROJCS["CGCS2000 / 3-degree Gauss-Kruger CM 120E",GEOGCS["China Geodetic Coordinate System 2000"]]`, 4549, ""},
		{"Authority", "\ufeff" + `PROJCS["some name",GEOGCS["GCS",AUTHORITY["EPSG","4490"]],AUTHORITY["EPSG","4528"]]`, 4528, "some name"},
		{"Geographic", `GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000"]]`, 4490, ""},
		{"WGS84", `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984"]]`, 4326, ""},
		{"WebMercator", `PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984"]]`, 3857, ""},
		{"ErrZoneOutside", `PROJCS["CGCS2000_3_Degree_GK_Zone_46",GEOGCS["x"]]`, 0, "CGCS2000_3_Degree_GK_Zone_46"},
		{"ErrCMNotOnGrid", `PROJCS["CGCS2000_3_Degree_GK_CM_121E",GEOGCS["x"]]`, 0, ""},
		{"ErrSixDegree", `PROJCS["CGCS2000_GK_CM_123E",GEOGCS["x"]]`, 0, "CGCS2000_GK_CM_123E"},
		{"ErrXian80", `PROJCS["Xian_1980_3_Degree_GK_CM_120E",GEOGCS["GCS_Xian_1980"]]`, 0, "Xian_1980_3_Degree_GK_CM_120E"},
		{"ErrNotWKT", `hello`, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, name, ok := epsgFromWKT(tt.wkt)
			if ok != (tt.code != 0) || code != tt.code {
				t.Errorf("epsgFromWKT = %d, %q, %v; want %d", code, name, ok, tt.code)
			}
			if tt.crs != "" && name != tt.crs {
				t.Errorf("epsgFromWKT name = %q, want %q", name, tt.crs)
			}
		})
	}
}
